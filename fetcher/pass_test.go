package fetcher

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestRunOnceHookIsThePassOwn: a pass's logger and commit hook (a `run`
// handed to serve, with its progress bar) are arguments of RunOnce; the
// scheduler it shares with serve keeps its own OnCommit, which still runs,
// and its own logger.
func TestRunOnceHookIsThePassOwn(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, feedXML, "Origin")
	}))
	defer origin.Close()
	src := newsdesk.Source{ID: "a", URL: origin.URL, Interval: time.Hour}
	clock := t0
	s, _ := newScheduler(t, &clock, src)
	var shared, own []string
	serveHook := func(o Outcome) { shared = append(shared, o.Source.ID) }
	s.OnCommit = serveHook
	var serveLog, passLog bytes.Buffer
	s.Logger = slog.New(slog.NewTextHandler(&serveLog, &slog.HandlerOptions{Level: slog.LevelInfo}))
	pass := slog.New(slog.NewTextHandler(&passLog, &slog.HandlerOptions{Level: slog.LevelInfo}))
	out, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, pass, func(o Outcome) { own = append(own, o.Source.ID) })
	if err != nil || len(out) != 1 || out[0].Err != nil {
		t.Fatalf("RunOnce = %+v, %v", out, err)
	}
	if len(shared) != 1 || len(own) != 1 {
		t.Errorf("scheduler's hook ran %d times, the pass's %d; want once each", len(shared), len(own))
	}
	if fmt.Sprintf("%p", s.OnCommit) != fmt.Sprintf("%p", serveHook) {
		t.Errorf("RunOnce replaced the scheduler's OnCommit")
	}
	if !strings.Contains(passLog.String(), "fetched") || serveLog.Len() != 0 {
		t.Errorf("pass log %q, scheduler log %q; want the fetch logged to the pass's logger only", passLog.String(), serveLog.String())
	}
}
