package main

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startHTTP serves serve's handler for a test daemon on 127.0.0.1 with
// serve's HTTP server built with the given timeouts, until the test ends.
func startHTTP(t *testing.T, timeouts httpTimeouts) string {
	t.Helper()
	d := newTestDaemon(t, oneSource)
	if err := d.render(); err != nil {
		t.Fatal(err)
	}
	d.ready.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(d.handler(), slog.New(slog.DiscardHandler), timeouts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// TestServeTimeouts: serve's HTTP server bounds every way a client can hold
// a connection, with the values the tests below shrink.
func TestServeTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler), serveTimeouts)
	for name, got := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if got <= 0 || got > 2*time.Minute {
			t.Errorf("serve's %s = %v, want a bound of at most 2 minutes", name, got)
		}
	}
	if srv.ReadHeaderTimeout != 10*time.Second {
		t.Errorf("serve's ReadHeaderTimeout = %v, want 10s", srv.ReadHeaderTimeout)
	}
	if srv.MaxHeaderBytes != 64<<10 {
		t.Errorf("serve's MaxHeaderBytes = %d, want 64 KiB", srv.MaxHeaderBytes)
	}
}

// TestSlowloris: a client that sends its request header a byte at a time,
// each byte well within the header timeout but never finishing, is
// disconnected once the header timeout has passed, never answered; the
// timeout is for the whole header, not between bytes.
func TestSlowloris(t *testing.T) {
	const headerTimeout = 200 * time.Millisecond
	addr := startHTTP(t, httpTimeouts{ReadHeader: headerTimeout, Read: time.Minute, Write: time.Minute, Idle: time.Minute})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// The attacker: a byte every 10ms, 20 times faster than the timeout,
	// of a header that never ends.
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		n := 0
		defer func() { sent <- n }()
		drip := "GET /healthz HTTP/1.1\r\nHost: news.example\r\nX-Drip: " + strings.Repeat("a", 1<<20)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for ; n < len(drip); n++ {
			if _, err := conn.Write([]byte{drip[n]}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C: // the attack's pace, not a wait for anything
			}
		}
	}()

	// The server hangs up. The deadline only stops a test whose server
	// never does, a hundred times the header timeout later.
	conn.SetReadDeadline(time.Now().Add(100 * headerTimeout))
	answer, err := io.ReadAll(conn)
	close(stop)
	n := <-sent
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept a connection whose header dripped in for %v (%d bytes) open: no header timeout", 100*headerTimeout, n)
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading from the server: %v, want it to close the connection", err)
	}
	// Go's server says 400 as it hangs up; never the handler's answer.
	if len(answer) != 0 && !strings.HasPrefix(string(answer), "HTTP/1.1 400 ") {
		t.Errorf("the server answered an unfinished header with %.100q, want nothing or a 400", answer)
	}
	if n == 0 {
		t.Errorf("the attacker sent nothing")
	}
}

// TestIdleConnectionsDoNotStarve: thousands of connections that send
// nothing or half a header, held open under serve's own timeouts, do not
// stop a normal request from being answered.
func TestIdleConnectionsDoNotStarve(t *testing.T) {
	addr := startHTTP(t, serveTimeouts)
	// Two descriptors a connection (both ends are in this process).
	n := 2000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(2*n+200) {
		n = int(lim.Cur-200) / 2
		t.Logf("open files are limited to %d: holding %d connections", lim.Cur, n)
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if i%2 == 0 {
			if _, err := io.WriteString(c, "GET /sections/all.rss HTTP/1.1\r\nHost: news.example\r\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The timeout only ends a test whose request is never answered.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	for _, path := range []string{"/healthz", "/sections/all.rss"} {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s with %d connections held: %v", path, n, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s with %d connections held = %d %.100q, want 200", path, n, resp.StatusCode, body)
		}
	}
	// They were all still open: a server that had dropped them to cope
	// would not prove anything.
	for i, c := range conns[:10] {
		c.SetReadDeadline(time.Now())
		if _, err := c.Read(make([]byte, 1)); !os.IsTimeout(err) {
			t.Errorf("held connection %d: read = %v, want it still open (a timeout)", i, err)
		}
	}
}
