package main

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestWebSubWalkThrough is the README's walk-through with the real
// binary: newsdesk serve on the demo's feeds.yaml subscribes at the
// publisher's hub after its first fetch, the reader subscribes at
// newsdesk's hub, and each story the publisher then publishes reaches the
// reader by push, within seconds, while newsdesk fetched the feed once.
func TestWebSubWalkThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the newsdesk binary")
	}
	bin := filepath.Join(t.TempDir(), "newsdesk")
	if out, err := exec.Command("go", "build", "-o", bin, "../newsdesk").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out syncBuffer
	const stories = 3
	s, err := setup(t.TempDir(), options{Publisher: "127.0.0.1:0", Reader: "127.0.0.1:0", Newsdesk: freeAddr(t),
		Every: 1500 * time.Millisecond, Stories: stories, Wait: time.Minute}, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()

	var logs syncBuffer
	serve := exec.Command(bin, "serve", "-config", s.config)
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.run(ctx); err != nil {
		t.Fatalf("walk-through: %v\ndemo:\n%s\nnewsdesk:\n%s", err, out.String(), logs.String())
	}
	s.rd.mu.Lock()
	late := append([]time.Duration(nil), s.rd.latencies...)
	s.rd.mu.Unlock()
	if len(late) < stories {
		t.Fatalf("the reader timed %d stories, want %d\ndemo:\n%s", len(late), stories, out.String())
	}
	for i, l := range late {
		// Generous: on an idle machine a story arrives in well under a
		// second; "within seconds" is the promise.
		if l > 10*time.Second {
			t.Errorf("story %d reached the reader %s after it was published, want within seconds", i+1, l)
		}
	}
	if n := s.pub.polled(); n != 1 {
		t.Errorf("newsdesk fetched the publisher's feed %d times, want once: the stories must come by push", n)
	}
	t.Logf("publication to reader: %v", late)

	// The operator sees both subscriptions: the source's at its hub, and
	// the reader's at newsdesk's hub, by callback host only.
	st, err := exec.Command(bin, "status", "-config", s.config).CombinedOutput()
	if err != nil {
		t.Fatalf("newsdesk status: %v\n%s", err, st)
	}
	for _, want := range []string{"PUSH", "active until", "127.0.0.1"} {
		if !strings.Contains(string(st), want) {
			t.Errorf("newsdesk status does not show %q:\n%s", want, st)
		}
	}
	t.Logf("newsdesk status:\n%s", st)
	if strings.Contains(string(st), s.rd.secret) || strings.Contains(string(st), "/callback") {
		t.Errorf("newsdesk status shows a secret or a callback URL:\n%s", st)
	}
	if !strings.Contains(out.String(), "reader: new item \"Story 1") {
		t.Errorf("the demo's output does not show the first story arriving:\n%s", out.String())
	}
}

// freeAddr returns a loopback address with a port free a moment ago:
// newsdesk's address has to be written into its feeds.yaml before it
// starts.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the writers of a process and the
// demo's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
