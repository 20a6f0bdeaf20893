package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServer serves handle on a socket in a temporary folder; stop shuts
// it down and fails the test if shutdown hangs.
func startServer(t *testing.T, handle Handler) (sock string, stop func()) {
	t.Helper()
	sock = filepath.Join(t.TempDir(), "control.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Holder: "serve", Handle: handle, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
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
				t.Errorf("Serve() = %v", err)
			}
		case <-time.After(20 * time.Second): // a hang, not a speed target
			t.Fatal("the control socket did not shut down within 20s: a client holds it up")
		}
	}
	t.Cleanup(stop)
	return sock, stop
}

func dial(t *testing.T, sock string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readReply reads the final reply, skipping stream frames.
func readReply(t *testing.T, c net.Conn) Reply {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang, not a speed target
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading the reply: %v", err)
		}
		var r Reply
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

func echoArgs(ctx context.Context, req Request, stream io.Writer) Reply {
	return Reply{Stdout: strings.Join(req.Args, " ")}
}

// TestServeStuckClient: a client that stops reading its answer does not
// hold up shutdown: the answer's writes have a deadline, and shutdown
// closes the connections left.
func TestServeStuckClient(t *testing.T) {
	sock, stop := startServer(t, func(ctx context.Context, req Request, stream io.Writer) Reply {
		// More than the socket buffers hold.
		return Reply{Stdout: strings.Repeat("x", 8<<20)}
	})
	c := dial(t, sock)
	if err := json.NewEncoder(c).Encode(Request{Args: []string{"status"}}); err != nil {
		t.Fatal(err)
	}
	// The answer has begun: the command ran and its writer waits for us.
	var first [1]byte
	if _, err := c.Read(first[:]); err != nil {
		t.Fatal(err)
	}
	stop()
}

// TestServeRequestCap: a request over MaxRequest (1 MiB) is refused before
// it is decoded (a 600 MiB one took serve to 3.7 GB), and never reaches
// the handler.
func TestServeRequestCap(t *testing.T) {
	handled := false
	sock, stop := startServer(t, func(ctx context.Context, req Request, stream io.Writer) Reply {
		handled = true
		return Reply{}
	})
	c := dial(t, sock)
	go func() {
		fmt.Fprintf(c, `{"args":["version"],"dir":"%s"}`+"\n", strings.Repeat("a", 2<<20))
	}()
	r := readReply(t, c)
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "at most 1048576 bytes") {
		t.Errorf("reply to a 2 MiB request = code %d, stderr %q; want code %d, at most 1048576 bytes", r.Code, r.Stderr, exitUsage)
	}
	stop() // waits for the connection's goroutine
	if handled {
		t.Error("the handler ran a request over the cap")
	}
}

// TestServeBadRequest: a line that is not a request is answered with exit
// 2 and why.
func TestServeBadRequest(t *testing.T) {
	sock, _ := startServer(t, echoArgs)
	c := dial(t, sock)
	fmt.Fprintln(c, "status")
	if r := readReply(t, c); r.Code != exitUsage || !strings.HasPrefix(r.Stderr, "newsdesk: bad control request: ") {
		t.Errorf("reply to a bad request = code %d, stderr %q; want 2, bad control request", r.Code, r.Stderr)
	}
}

// TestServeHangUpCancels: when the client hangs up (Ctrl-C), the
// handler's context is done.
func TestServeHangUpCancels(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	sock, _ := startServer(t, func(ctx context.Context, req Request, stream io.Writer) Reply {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return Reply{}
	})
	c := dial(t, sock)
	json.NewEncoder(c).Encode(Request{Args: []string{"run"}})
	<-started
	c.Close()
	select {
	case <-cancelled:
	case <-time.After(20 * time.Second): // a hang, not a speed target
		t.Fatal("the command went on after its client hung up")
	}
}

// TestForward: the client relays the stream frames, stdout, stderr and the
// exit code, and asks for frames only when it takes them.
func TestForward(t *testing.T) {
	sock, _ := startServer(t, func(ctx context.Context, req Request, stream io.Writer) Reply {
		if stream == nil {
			return Reply{Stderr: "no stream\n", Code: 1}
		}
		for i := range 3 {
			fmt.Fprintf(stream, "part %d;", i)
		}
		stream.Write(nil) // no empty frame
		return Reply{Stdout: strings.Join(req.Args, " ") + " in " + req.Dir, Stderr: "warned", Code: 3}
	})
	var stdout, stderr, stream bytes.Buffer
	code, err := Forward(context.Background(), sock, Request{Args: []string{"backup", "x.db"}, Dir: "/home"}, &stdout, &stderr, &stream)
	if err != nil || code != 3 || stdout.String() != "backup x.db in /home" || stderr.String() != "warned" || stream.String() != "part 0;part 1;part 2;" {
		t.Errorf("Forward() = %d, %v, stdout %q, stderr %q, stream %q; want 3, nil, the handler's output and three parts", code, err, stdout.String(), stderr.String(), stream.String())
	}
	stdout.Reset()
	stderr.Reset()
	code, err = Forward(context.Background(), sock, Request{Args: []string{"status"}}, &stdout, &stderr, nil)
	if err != nil || code != 1 || stderr.String() != "no stream\n" {
		t.Errorf("Forward() without a stream = %d, %v, stderr %q; want 1, nil, no stream", code, err, stderr.String())
	}
}

// TestForwardNothingListens: a socket nobody answers on is a *DialError
// (the command may try again later).
func TestForwardNothingListens(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "control.sock")
	_, err := Forward(context.Background(), sock, Request{Args: []string{"status"}}, io.Discard, io.Discard, nil)
	var de *DialError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "control socket "+sock+" does not answer") {
		t.Errorf("Forward() to nothing = %v; want a *DialError naming the socket", err)
	}
	if Hello(sock) != "" || Listening(sock) {
		t.Errorf("Hello, Listening on nothing = %q, %v; want \"\", false", Hello(sock), Listening(sock))
	}
}

// TestListen: the socket is mode 0600, answers Hello with its holder, one
// left by a killed holder is replaced, and one that answers is refused.
func TestListen(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the file stays, as a killed holder leaves it
	ln, err = Listen(stale)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	ln.Close()

	sock, _ := startServer(t, echoArgs)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if h := Hello(sock); h != "serve" {
		t.Errorf("Hello() = %q; want serve", h)
	}
	if _, err := Listen(sock); err == nil || !strings.Contains(err.Error(), "another newsdesk serve answers there") {
		t.Errorf("Listen on a socket that answers = %v; want another newsdesk serve answers there", err)
	}
}
