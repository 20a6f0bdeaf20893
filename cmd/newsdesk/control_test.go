package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/internal/control"
	"github.com/newsdesk/newsdesk/metrics"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// newTestDaemon wires a daemon as serve does, on a real database in a
// temporary folder, for the config yaml; it does not listen.
func newTestDaemon(t *testing.T, yaml string) *daemon {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(cfg.DBPath, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := &daemon{path: path, db: db, log: slog.New(slog.DiscardHandler), metrics: metrics.New()}
	d.cfg.Store(cfg)
	d.site = publisher.NewServer(db, publisherConfig(cfg), d.log)
	d.sched = newScheduler(cfg, db, d.log, nil)
	d.sched.OnCommit = d.committed
	return d
}

// startControl runs the daemon's control socket; stop shuts it down and
// fails the test if shutdown hangs.
func startControl(t *testing.T, d *daemon) (sock string, stop func()) {
	t.Helper()
	ln, err := control.Listen(config.SocketPath(d.db.Path()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.serveControl(ctx, ln) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serveControl() = %v", err)
			}
		case <-time.After(20 * time.Second): // a hang, not a speed target
			t.Fatal("the control socket did not shut down within 20s: a client holds it up")
		}
	}
	t.Cleanup(stop)
	return config.SocketPath(d.db.Path()), stop
}

// ask runs args through the control socket sock as a command that finds
// the database held does (forward), and returns what it printed.
func ask(t *testing.T, sock string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = forward(context.Background(), sock, args, &out, &errOut, "text", nil)
	return code, out.String(), errOut.String()
}

const oneSource = `sources:
  - id: a
    url: http://127.0.0.1:1/feed
sections:
  - id: all
    sources: [a]
`

// TestControlRefusesServe: serve sent to the socket is refused, not run as a
// second listener inside the first.
func TestControlRefusesServe(t *testing.T) {
	d := newTestDaemon(t, oneSource)
	sock, _ := startControl(t, d)
	code, _, stderr := ask(t, sock, "serve", "-config", d.path, "-listen", "127.0.0.1:0")
	if code != exitError || !strings.Contains(stderr, "already holds") {
		t.Errorf("serve through the socket = code %d, stderr %q; want code 1, already holds", code, stderr)
	}
}

// TestControlHangUpCancels: when the client of a long command hangs up
// (Ctrl-C), the command is cancelled: here a run whose source never
// answers.
func TestControlHangUpCancels(t *testing.T) {
	requested, cancelled := make(chan struct{}), make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(requested)
		<-r.Context().Done()
		close(cancelled)
	}))
	defer origin.Close()
	d := newTestDaemon(t, "sources:\n  - id: a\n    url: "+origin.URL+"/feed\n    timeout: 5m\nsections:\n  - id: all\n    sources: [a]\n")
	sock, _ := startControl(t, d)
	ctx, interrupt := context.WithCancel(context.Background())
	go forward(ctx, sock, []string{"run", "-force", "-config", d.path}, io.Discard, io.Discard, "text", nil)
	<-requested
	interrupt() // Ctrl-C
	select {
	case <-cancelled:
	case <-time.After(20 * time.Second): // a hang, not a speed target
		t.Fatal("the run went on after its client hung up")
	}
}

// TestControlCronRun: a run answers Hello as a run, runs the commands that
// read, and refuses the others with exit 75.
func TestControlCronRun(t *testing.T) {
	d := newTestDaemon(t, oneSource)
	d.cronRun = true
	sock, _ := startControl(t, d)
	if !daemonTakes(sock, "status") || daemonTakes(sock, "pin") || daemonTakes(sock, "run") {
		t.Errorf("daemonTakes(status, pin, run) = %v, %v, %v; want true, false, false", daemonTakes(sock, "status"), daemonTakes(sock, "pin"), daemonTakes(sock, "run"))
	}
	if code, _, stderr := ask(t, sock, "pin", "-config", d.path, "all", "x"); code != exitTempFail || !strings.Contains(stderr, "in use by newsdesk run") {
		t.Errorf("pin through a run's socket = code %d, stderr %q; want 75, in use by newsdesk run", code, stderr)
	}
	if code, stdout, stderr := ask(t, sock, "status", "-config", d.path); code != exitOK || !strings.Contains(stdout, "never fetched") {
		t.Errorf("status through a run's socket = code %d, stdout %q, stderr %q; want 0, never fetched", code, stdout, stderr)
	}
}

// TestRunFinishesCommandsInFlight: a cron run that finishes while it
// streams a backup to a client stops taking new clients, and lets the
// backup finish before it closes the database, instead of cutting it off.
func TestRunFinishesCommandsInFlight(t *testing.T) {
	d := newTestDaemon(t, oneSource)
	// Bigger than the socket's buffers: the copy is still being sent when
	// the run finishes (over 1 MiB: items are stored compressed).
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var items []newsdesk.Item
	for i := range 6000 {
		items = append(items, newsdesk.Item{ID: fmt.Sprint(i), Title: strings.Repeat("headline ", 40), Link: fmt.Sprintf("https://a.example/%d", i), Published: at.Add(time.Duration(i) * time.Minute)})
	}
	if _, err := d.db.SaveFetch(newsdesk.FetchState{SourceID: "a", Result: newsdesk.ResultOK, LastFetch: at}, items, newsdesk.Retention{}); err != nil {
		t.Fatal(err)
	}
	stop := answerWhileRunning(context.Background(), d.config(), d.db, d.log)
	sock := config.SocketPath(d.db.Path())
	stopped := make(chan struct{})
	var copied bytes.Buffer
	stream := writerFunc(func(p []byte) (int, error) {
		if copied.Len() == 0 { // the run finishes now, while the copy is on its way
			go func() { stop(); close(stopped) }()
			for {
				if _, err := os.Stat(sock); errors.Is(err, fs.ErrNotExist) {
					break // no new clients: the run is stopping
				}
				runtime.Gosched()
			}
		}
		return copied.Write(p)
	})
	var stdout, stderr bytes.Buffer
	code := forward(context.Background(), sock, []string{"backup", "-config", d.path, "copy.db"}, &stdout, &stderr, "text", stream)
	<-stopped
	if code != exitOK || copied.Len() < 1<<20 {
		t.Errorf("backup through a run that finished meanwhile = code %d, %d bytes, stderr %q; want 0 and the whole copy", code, copied.Len(), stderr.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
