package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
