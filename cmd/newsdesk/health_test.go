package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// TestHealthTable checks every row of the README's health table on a
// daemon wired as serve wires it, with a real store.
func TestHealthTable(t *testing.T) {
	get := func(t *testing.T, h http.Handler, path string) (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, string(body)
	}
	type want struct {
		code int
		body string // a substring
	}
	check := func(t *testing.T, d *daemon, healthz, readyz want) {
		t.Helper()
		h := d.handler()
		for _, c := range []struct {
			path string
			want want
		}{{"/healthz", healthz}, {"/readyz", readyz}} {
			code, body := get(t, h, c.path)
			if code != c.want.code || !strings.Contains(body, c.want.body) {
				t.Errorf("GET %s = %d %q, want %d containing %q", c.path, code, body, c.want.code, c.want.body)
			}
		}
	}
	started := func(t *testing.T) *daemon {
		d := newTestDaemon(t, oneSource)
		if err := d.render(); err != nil {
			t.Fatal(err)
		}
		d.ready.Store(true)
		return d
	}

	t.Run("normal", func(t *testing.T) {
		d := started(t)
		check(t, d, want{200, "ok\n"}, want{200, "ready"})
		if _, body := get(t, d.handler(), "/metrics"); !strings.Contains(body, "newsdesk_store_healthy 1") {
			t.Errorf("/metrics has no newsdesk_store_healthy 1")
		}
	})
	t.Run("starting", func(t *testing.T) {
		d := newTestDaemon(t, oneSource)
		check(t, d, want{200, "ok"}, want{503, "starting"})
	})
	t.Run("feeds.yaml rejected", func(t *testing.T) {
		d := started(t)
		line := []string{`feeds.yaml:9:15: section "kremlin": unknown source "moscow-time"`}
		d.setRejected(line, line)
		check(t, d, want{200, "degraded: " + d.path + " has 1 problem; the previous configuration keeps running\nfeeds.yaml:9:15"}, want{200, "ready"})
	})
	t.Run("store unreadable, feeds rendered", func(t *testing.T) {
		d := started(t)
		d.db.Close() // the store stops answering; the rendered feeds stay
		check(t, d, want{200, "degraded: store " + d.db.Path() + " does not answer: database not open; serving the feeds rendered last"}, want{200, "ready"})
		h := d.handler()
		if code, body := get(t, h, "/sections/all.rss"); code != 200 || !strings.Contains(body, "<rss") {
			t.Errorf("GET /sections/all.rss = %d %.100q, want the last rendered feed", code, body)
		}
		if _, body := get(t, h, "/metrics"); !strings.Contains(body, "newsdesk_store_healthy 0") {
			t.Errorf("/metrics has no newsdesk_store_healthy 0")
		}
		if code, body := get(t, h, "/status"); code != 503 || !strings.Contains(body, "does not answer: database not open") {
			t.Errorf("GET /status = %d, body without the store's problem: %.300q", code, body)
		}
	})
	t.Run("store unreadable at start, nothing rendered", func(t *testing.T) {
		d := newTestDaemon(t, oneSource)
		d.db.Close()
		if err := d.render(); err == nil {
			t.Fatal("render() of a closed store = nil, want an error")
		}
		d.ready.Store(true)
		check(t, d, want{200, "degraded: store"}, want{503, "not ready: no feeds rendered yet: store"})
	})
	t.Run("stopping", func(t *testing.T) {
		d := started(t)
		d.stopping.Store(true)
		d.ready.Store(false)
		check(t, d, want{503, "stopping"}, want{503, "stopping"})
	})
}

// TestHealthKeepsPrivateSectionsOut: a render that fails on a private
// section (one item record garbled inside its page: bbolt reads it, the
// record does not decode) names the section in its error. /healthz, /readyz
// and /status answer without a token: they say the store is unhealthy
// without the section's id; the log and the admin's /status have it.
func TestHealthKeepsPrivateSectionsOut(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "newsdesk.db")
	db, err := bolt.Open(dbPath, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	items := []newsdesk.Item{{ID: "1", Title: "MARKERTITLE", Link: "https://p.example/1", Published: at}}
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "p", Result: newsdesk.ResultOK, LastFetch: at}, items, newsdesk.Retention{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	// The title's length in the record (11) becomes 127: longer than the
	// record.
	garbled := bytes.ReplaceAll(raw, []byte("\x0bMARKERTITLE"), []byte("\x7fMARKERTITLE"))
	if bytes.Equal(garbled, raw) {
		t.Fatal("the item's title is not in the file")
	}
	if err := os.WriteFile(dbPath, garbled, 0o600); err != nil {
		t.Fatal(err)
	}
	d := newTestDaemon(t, `storage:
  path: `+dbPath+`
sources:
  - id: a
    url: http://127.0.0.1:1/a
  - id: p
    url: http://127.0.0.1:1/p
sections:
  - id: newsroom
    sources: [p]
    token: 0123456789abcdef0123
  - id: all
    sources: [a]
`)
	err = d.render()
	if err == nil || !strings.Contains(err.Error(), "section newsroom") {
		t.Fatalf("render() = %v, want an error naming section newsroom", err)
	}
	d.ready.Store(true)
	h := d.handler()
	for _, c := range []struct {
		path string
		code int
	}{{"/healthz", 200}, {"/readyz", 503}, {"/status", 200}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		body := rec.Body.String()
		if rec.Code != c.code || !strings.Contains(body, "could not be read to render the sections") || strings.Contains(body, "newsroom") {
			t.Errorf("GET %s = %d %q, want %d saying the store is unhealthy, without the private section's id", c.path, rec.Code, body, c.code)
		}
	}
	// The operator's /status, behind server.admin_token, has it whole.
	cfg := *d.config()
	cfg.AdminToken = "admin-token-0123456789"
	d.cfg.Store(&cfg)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/status?token=admin-token-0123456789", nil))
	if !strings.Contains(rec.Body.String(), "render: section newsroom: ") {
		t.Errorf("GET /status with the admin token = %d, want the render error whole: %.2000q", rec.Code, rec.Body.String())
	}
}

// TestHealthMethods: /healthz and /readyz, the daemon's (the publisher has
// none of its own), answer GET and HEAD only, like every published file.
func TestHealthMethods(t *testing.T) {
	d := newTestDaemon(t, oneSource)
	if err := d.render(); err != nil {
		t.Fatal(err)
	}
	h := d.handler()
	for _, path := range []string{"/healthz", "/readyz"} {
		for _, method := range []string{"POST", "PUT", "DELETE"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
			if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "GET") {
				t.Errorf("%s %s = %d, Allow %q; want 405 allowing GET", method, path, rec.Code, rec.Header().Get("Allow"))
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("HEAD", path, nil))
		if rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("HEAD %s = 405, want it answered", path)
		}
	}
}
