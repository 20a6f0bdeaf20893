package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
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
	d.sched = newScheduler(cfg, db, d.log)
	d.sched.OnCommit = d.committed
	return d
}

// startControl runs the daemon's control socket; stop shuts it down and
// fails the test if shutdown hangs.
func startControl(t *testing.T, d *daemon) (sock string, stop func()) {
	t.Helper()
	ln, err := listenControl(config.SocketPath(d.db.Path()))
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

func dialControl(t *testing.T, sock string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readReply reads the final reply, skipping stream frames.
func readReply(t *testing.T, c net.Conn) controlReply {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang, not a speed target
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading the reply: %v", err)
		}
		var r controlReply
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("reply %.200q: %v", line, err)
		}
		if r.Data == 0 {
			return r
		}
		if _, err := br.Discard(int(r.Data)); err != nil {
			t.Fatal(err)
		}
	}
}

const oneSource = `sources:
  - id: a
    url: http://127.0.0.1:1/feed
sections:
  - id: all
    sources: [a]
`

// TestControlStuckClient: a client that stops reading its answer does not
// hold up shutdown: the answer's writes have a deadline, and shutdown
// closes the connections left.
func TestControlStuckClient(t *testing.T) {
	var b strings.Builder
	b.WriteString("sources:\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "  - id: source-with-a-long-name-%d\n    url: https://example.com/feeds/%d/rss.xml\n", i, i)
	}
	b.WriteString("sections:\n  - id: all\n    sources: [source-with-a-long-name-0]\n")
	d := newTestDaemon(t, b.String())
	sock, stop := startControl(t, d)
	c := dialControl(t, sock)
	// status -json of 5,000 sources is more than the socket buffers hold.
	req, _ := json.Marshal(controlRequest{Args: []string{"status", "-json", "-config", d.path}})
	if _, err := c.Write(append(req, '\n')); err != nil {
		t.Fatal(err)
	}
	// The answer has begun: the command ran and its writer waits for us.
	var first [1]byte
	if _, err := c.Read(first[:]); err != nil {
		t.Fatal(err)
	}
	stop()
}

// TestControlRequestCap: a request over 1 MiB is refused before it is
// decoded (a 600 MiB one took serve to 3.7 GB).
func TestControlRequestCap(t *testing.T) {
	d := newTestDaemon(t, oneSource)
	sock, _ := startControl(t, d)
	c := dialControl(t, sock)
	go func() {
		fmt.Fprintf(c, `{"args":["version"],"dir":"%s"}`+"\n", strings.Repeat("a", 2<<20))
	}()
	r := readReply(t, c)
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "at most 1048576 bytes") {
		t.Errorf("reply to a 2 MiB request = code %d, stderr %q; want code %d, at most 1048576 bytes", r.Code, r.Stderr, exitUsage)
	}
}

// TestControlRefusesServe: serve sent to the socket is refused, not run as a
// second listener inside the first.
func TestControlRefusesServe(t *testing.T) {
	d := newTestDaemon(t, oneSource)
	sock, _ := startControl(t, d)
	c := dialControl(t, sock)
	json.NewEncoder(c).Encode(controlRequest{Args: []string{"serve", "-config", d.path, "-listen", "127.0.0.1:0"}})
	r := readReply(t, c)
	if r.Code != exitError || !strings.Contains(r.Stderr, "already holds") {
		t.Errorf("serve through the socket = code %d, stderr %q; want code 1, already holds", r.Code, r.Stderr)
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
	c := dialControl(t, sock)
	json.NewEncoder(c).Encode(controlRequest{Args: []string{"run", "-force", "-config", d.path}})
	<-requested
	c.Close()
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
	c := dialControl(t, sock)
	json.NewEncoder(c).Encode(controlRequest{Args: []string{"pin", "-config", d.path, "all", "x"}})
	if r := readReply(t, c); r.Code != exitTempFail || !strings.Contains(r.Stderr, "in use by newsdesk run") {
		t.Errorf("pin through a run's socket = code %d, stderr %q; want 75, in use by newsdesk run", r.Code, r.Stderr)
	}
	c = dialControl(t, sock)
	json.NewEncoder(c).Encode(controlRequest{Args: []string{"status", "-config", d.path}})
	if r := readReply(t, c); r.Code != exitOK || !strings.Contains(r.Stdout, "never fetched") {
		t.Errorf("status through a run's socket = code %d, stdout %q, stderr %q; want 0, never fetched", r.Code, r.Stdout, r.Stderr)
	}
}

// TestRunFinishesCommandsInFlight: a cron run that finishes while it
// streams a backup to a client stops taking new clients, and lets the
// backup finish before it closes the database, instead of cutting it off.
func TestRunFinishesCommandsInFlight(t *testing.T) {
	d := newTestDaemon(t, oneSource)
	// Bigger than the socket's buffers: the copy is still being sent when
	// the run finishes.
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var items []newsdesk.Item
	for i := range 3000 {
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
