package publish

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"time"
)

// retrying retries what GitHub asks to be retried: server errors (5xx),
// 429, and 403s that are rate limits (a secondary limit's Retry-After, or
// x-ratelimit-remaining: 0 with its reset time). It waits what GitHub
// says, at most maxWait at a time, and gives up after maxAttempts; the
// request's context bounds the whole.
type retrying struct {
	next  http.RoundTripper
	sleep func(context.Context, time.Duration) error
}

const (
	maxAttempts = 4
	maxWait     = 60 * time.Second
)

func (t *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	for attempt := 1; ; attempt++ {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := next.RoundTrip(r)
		if err != nil || attempt == maxAttempts {
			return resp, err
		}
		wait, again := retryAfter(resp, attempt)
		if !again {
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if err := t.wait(req.Context(), min(wait, maxWait)); err != nil {
			return nil, err
		}
	}
}

func (t *retrying) wait(ctx context.Context, d time.Duration) error {
	if t.sleep != nil {
		return t.sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// retryAfter says whether a response is worth retrying, and when.
func retryAfter(resp *http.Response, attempt int) (time.Duration, bool) {
	backoff := time.Duration(1<<attempt) * time.Second
	if s := resp.Header.Get("Retry-After"); s != "" && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
		return backoff, true
	}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests:
		return backoff, true
	case resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-Ratelimit-Remaining") == "0":
		if reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			if d := time.Until(time.Unix(reset, 0)); d > 0 {
				return d, true
			}
		}
		return backoff, true
	}
	return 0, false
}
