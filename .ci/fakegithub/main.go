// Command fakegithub is the part of GitHub's REST API that kubegate
// publishes to (check runs, pull-request comments), for .ci/e2e: act runs
// it in the job container, the action reaches it on the container's
// loopback, and every request it receives is logged as one line,
//
//	fake: METHOD PATH key=value ...
//
// which the e2e reads back from the step that prints the log.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8089", "listen address")
	logFile := flag.String("log", "/tmp/fakegithub.log", "where requests are logged")
	token := flag.String("token", "", "the token requests must carry")
	flag.Parse()
	out, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	// comments is the pull request's conversation, kept so that a second
	// run finds its comment by the marker and edits it in place.
	var comments []map[string]any
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var body map[string]any
		if data, _ := io.ReadAll(r.Body); len(data) > 0 {
			_ = json.Unmarshal(data, &body)
		}
		line := "fake: " + r.Method + " " + r.URL.Path
		if r.Header.Get("Authorization") != "Bearer "+*token {
			fmt.Fprintln(out, line+" unauthorized")
			http.Error(w, `{"message": "Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		for _, k := range []string{"head_sha", "name", "status", "conclusion"} {
			if v, ok := body[k]; ok {
				line += fmt.Sprintf(" %s=%v", k, v)
			}
		}
		if o, ok := body["output"].(map[string]any); ok {
			anns, _ := o["annotations"].([]any)
			line += fmt.Sprintf(" annotations=%d", len(anns))
		}
		if b, ok := body["body"].(string); ok {
			lines := strings.SplitN(b, "\n", 3)
			line += fmt.Sprintf(" body=%q", lines[min(1, len(lines)-1)])
		}
		fmt.Fprintln(out, line)
		enc := json.NewEncoder(w)
		switch {
		case strings.Contains(r.URL.Path, "/check-runs"):
			enc.Encode(map[string]any{"id": 1, "html_url": "http://" + r.Host + "/runs/1"})
		case r.Method == http.MethodGet:
			enc.Encode(comments)
		case r.Method == http.MethodPost:
			c := map[string]any{"id": len(comments) + 1, "body": body["body"]}
			c["html_url"] = fmt.Sprintf("http://%s/comments/%d", r.Host, c["id"])
			comments = append(comments, c)
			enc.Encode(c)
		case r.Method == http.MethodPatch:
			var id int
			fmt.Sscanf(path.Base(r.URL.Path), "%d", &id)
			if id < 1 || id > len(comments) {
				http.Error(w, `{"message": "Not Found"}`, http.StatusNotFound)
				return
			}
			comments[id-1]["body"] = body["body"]
			enc.Encode(comments[id-1])
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening on", ln.Addr())
	log.Fatal(http.Serve(ln, nil))
}
