package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	configpkg "github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
)

// logBuffer is a log that serve writes while the test reads it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitUntil polls cond until it holds, failing the test with what after
// a deadline far beyond what the condition needs.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not standing in for one
	}
}

// startServe runs `newsdesk serve` on config in-process, on a free
// loopback port, until the test ends, when it must exit 0; it returns the
// address and serve's log.
func startServe(t *testing.T, config string) (string, *logBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	log := &logBuffer{}
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "-config", config, "-listen", addr, "-log-format", "text"}, io.Discard, log)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d; log:\n%s", code, log.String())
		}
	})
	return addr, log
}

// TestServeOnPostgreSQLOutlivesTheDatabase is the health table's rule for a
// shared store (issue 11, guarantee 8): while PostgreSQL does not answer,
// serve keeps answering from the feeds it rendered last, /healthz says
// degraded and why, /readyz stays ready, fetching pauses; when the
// database answers again, fetching resumes by itself and health is ok.
func TestServeOnPostgreSQLOutlivesTheDatabase(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	proxy, proxied := pgtest.NewProxy(t, dsn)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Origin</title><link>http://origin.example/</link><description>d</description>
<item><title>The story that stays served</title><link>http://origin.example/1</link><guid>http://origin.example/1</guid><pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item>
</channel></rss>`)
	}))
	defer origin.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "feeds.yaml")
	yaml := fmt.Sprintf(`storage: {postgres: '%s', lease: 20s}
sources:
  - {id: a, url: '%s/a.xml', timeout: 5s}
sections:
  - {id: all, title: All, sources: [a]}
`, proxied, origin.URL)
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, log := startServe(t, config)
	get := func(path string) (int, string, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error(), ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header.Get("ETag")
	}
	waitUntil(t, "the section shows the fetched item", func() bool {
		_, body, _ := get("/sections/all.rss")
		return strings.Contains(body, "The story that stays served")
	})
	_, before, etag := get("/sections/all.rss")

	proxy.Cut()
	waitUntil(t, "/healthz says the database does not answer", func() bool {
		code, body, _ := get("/healthz")
		return code == 200 && strings.Contains(body, "degraded: store") && strings.Contains(body, "does not answer") && strings.Contains(body, "serving the feeds rendered last")
	})
	if code, body, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz while the database is down = %d %q, want 200: serve has feeds to serve", code, body)
	}
	if code, body, got := get("/sections/all.rss"); code != 200 || body != before || got != etag {
		t.Errorf("the section while the database is down = %d, ETag %s (was %s), same body %v; want the last rendered", code, got, etag, body == before)
	}
	waitUntil(t, "the log says fetching paused", func() bool {
		return strings.Contains(log.String(), "fetching paused: the database does not answer")
	})

	proxy.Mend()
	waitUntil(t, "/healthz is ok again", func() bool {
		code, body, _ := get("/healthz")
		return code == 200 && body == "ok\n"
	})
	waitUntil(t, "the log says fetching resumed", func() bool {
		return strings.Contains(log.String(), "fetching resumed: the database answers again")
	})
}

// TestServeOnPostgreSQLReloads: an instance on a shared store reloads its
// own feeds.yaml (issue 11, guarantee 7): a source added to the file is
// recorded for it and fetched, and status shows the instance with the new
// file's hash.
func TestServeOnPostgreSQLReloads(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".xml")
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%[1]s</title><link>http://origin.example/%[1]s</link><description>d</description>
<item><title>The story of source %[1]s</title><link>http://origin.example/%[1]s/1</link><guid>http://origin.example/%[1]s/1</guid><pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item>
</channel></rss>`, name)
	}))
	defer origin.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "feeds.yaml")
	write := func(ids ...string) {
		var b strings.Builder
		fmt.Fprintf(&b, "storage: {postgres: '%s', lease: 20s}\nsources:\n", dsn)
		for _, id := range ids {
			fmt.Fprintf(&b, "  - {id: %s, url: '%s/%s.xml', timeout: 5s}\n", id, origin.URL, id)
		}
		fmt.Fprintf(&b, "sections:\n  - {id: all, title: All, sources: [%s]}\n", strings.Join(ids, ", "))
		if err := os.WriteFile(config, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a")
	addr, log := startServe(t, config)
	section := func() string {
		resp, err := http.Get("http://" + addr + "/sections/all.rss")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	hashes := func() []string {
		var out bytes.Buffer
		if code := run(context.Background(), []string{"status", "-json", "-config", config}, &out, io.Discard); code != 0 {
			return nil
		}
		var st struct {
			Instances []struct {
				Command    string `json:"command"`
				ConfigHash string `json:"config_hash"`
			} `json:"instances"`
		}
		if err := json.Unmarshal(out.Bytes(), &st); err != nil {
			t.Fatalf("status -json: %v\n%s", err, out.String())
		}
		var hs []string
		for _, in := range st.Instances {
			if in.Command == "serve" {
				hs = append(hs, in.ConfigHash)
			}
		}
		return hs
	}
	hashOf := func() string {
		cfg, err := configpkg.Load(config)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Hash
	}
	waitUntil(t, "source a is served", func() bool { return strings.Contains(section(), "The story of source a") })
	if hs, want := hashes(), hashOf(); len(hs) != 1 || hs[0] != want {
		t.Fatalf("status lists serve instances with hashes %q, want one with %s", hs, want)
	}

	write("a", "b")
	waitUntil(t, "serve reloads the file and fetches the source it adds", func() bool {
		return strings.Contains(log.String(), "configuration reloaded") && strings.Contains(section(), "The story of source b")
	})
	want := hashOf()
	waitUntil(t, "status shows the instance with the new file's hash", func() bool {
		hs := hashes()
		return len(hs) == 1 && hs[0] == want
	})
}
