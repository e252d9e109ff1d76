package images

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// retrying retries idempotent registry requests that failed for a reason
// that may pass: a network error, a timeout, 408, 429 and 5xx answers. It
// waits as long as a Retry-After header asks (up to maxWait), else backs off
// exponentially. go-containerregistry's own retry ignores Retry-After, so it
// is turned off where this one is used.
type retrying struct {
	next     http.RoundTripper
	attempts int
	base     time.Duration
	maxWait  time.Duration
	sleep    func(context.Context, time.Duration) error
}

func (t *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	idempotent := req.Method == http.MethodGet || req.Method == http.MethodHead
	for attempt := 1; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		wait, again := t.classify(req, resp, err, attempt)
		if !again || !idempotent || attempt >= t.attempts {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// classify says whether to try again and after how long.
func (t *retrying) classify(req *http.Request, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	backoff := t.base << (attempt - 1)
	if err != nil {
		// The caller gave up, or the error will not pass by itself (a
		// TLS handshake with a plain-HTTP server, which is also how
		// go-containerregistry probes loopback registries): do not retry.
		if req.Context().Err() != nil || !transient(err) {
			return 0, false
		}
		return backoff, true
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
		if d > t.maxWait {
			// Waiting that long would stall the check: report it now.
			return 0, false
		}
		return d, true
	}
	return backoff, true
}

// transient says whether a failed request may succeed if tried again: a
// timeout, a connection refused or reset (a registry restarting), a
// connection closed mid-answer.
func transient(err error) bool {
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout() ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		// A date in the past means now; the clock is read only here, to
		// turn the date into a wait.
		return max(time.Until(at), 0), true
	}
	return 0, false
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// secrets records every credential the keychain hands out, so that no
// message kubegate writes can carry one: registries echo requests in their
// error bodies, and those errors end up in reports that pull requests show.
type secrets struct {
	mu     sync.Mutex
	values []string
}

func (s *secrets) add(vs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		// Short values would mask ordinary words; no real secret is that
		// short.
		if len(v) >= 4 && !slices.Contains(s.values, v) {
			s.values = append(s.values, v)
		}
	}
}

// Redact replaces every recorded credential in msg.
func (s *secrets) Redact(msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.values {
		msg = strings.ReplaceAll(msg, v, "***")
	}
	return msg
}

// Values are the recorded credentials (for CI log masking).
func (s *secrets) Values() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.values...)
}

// recordingKeychain resolves credentials with the user's keychain and
// records them in secrets.
type recordingKeychain struct {
	inner   authn.Keychain
	secrets *secrets
}

func (k recordingKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	a, err := k.inner.Resolve(r)
	if err != nil || a == nil {
		return a, err
	}
	cfg, err := authn.Authorization(context.Background(), a)
	if err != nil {
		return nil, err
	}
	k.secrets.add(cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken)
	if cfg.Username != "" && cfg.Password != "" {
		k.secrets.add(base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password)))
	}
	return a, nil
}

// redactingTransport records the bearer tokens registries hand out, which
// are credentials too.
type redactingTransport struct {
	next    http.RoundTripper
	secrets *secrets
}

func (t redactingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if h := req.Header.Get("Authorization"); h != "" {
		if _, tok, ok := strings.Cut(h, " "); ok {
			t.secrets.add(tok)
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		err = redacted{msg: t.secrets.Redact(err.Error()), err: err}
	}
	return resp, err
}

// redacted is an error whose message has had credentials removed; errors.As
// still finds what it wraps (a timeout, a refused connection).
type redacted struct {
	msg string
	err error
}

func (e redacted) Error() string { return e.msg }
func (e redacted) Unwrap() error { return e.err }
