package fetcher

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// rawOrigin is a publisher that writes its answers byte for byte, so that
// its headers can lie: net/http's server would not let a handler send more
// or less than its Content-Length. answer gets the connection after the
// request has been read, and returns how many body bytes it wrote.
func rawOrigin(t *testing.T, answer func(w io.Writer) int64) (url string, written <-chan int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan int64, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		req, err := http.ReadRequest(bufio.NewReader(conn))
		if err != nil {
			t.Errorf("origin: read request: %v", err)
			return
		}
		req.Body.Close()
		out <- answer(conn)
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/feed", out
}

// lyingAnswer writes a 200 whose Content-Length is declared, then body,
// then pad bytes of filler (an XML comment's worth of spaces) in 64 KiB
// writes, stopping at the first write that fails (the client hung up).
func lyingAnswer(declared int64, body []byte, pad int64) func(w io.Writer) int64 {
	return func(w io.Writer) int64 {
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n", declared)
		n, err := w.Write(body)
		total := int64(n)
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for err == nil && total < int64(len(body))+pad {
			n, err = w.Write(chunk[:min(int64(len(chunk)), int64(len(body))+pad-total)])
			total += int64(n)
		}
		return total
	}
}

// smallFeed is a whole RSS feed of exactly n bytes (padded with spaces).
func smallFeed(t *testing.T, n int) []byte {
	t.Helper()
	f := `<rss version="2.0"><channel><title>L</title><item><guid>1</guid></item></channel></rss>`
	if len(f) > n {
		t.Fatalf("smallFeed: the feed is %d bytes, more than %d", len(f), n)
	}
	return []byte(f + strings.Repeat(" ", n-len(f)))
}

// TestFetchContentLengthLies: a publisher's Content-Length never makes a
// fetch read more than the body cap, nor pass a short body off as whole.
// Saying 100 and sending 10 MiB reads 100 bytes; saying 10 MiB and sending
// 100 before closing is a "connection" error; saying and sending 10 MiB
// (or more) against a 1 MiB cap is "too_large" after 1 MiB.
func TestFetchContentLengthLies(t *testing.T) {
	const tenMiB = 10 << 20
	// net/http logs a liar's bytes past its Content-Length as "Unsolicited
	// response received on idle HTTP channel" (4 KiB of them), and closes
	// that connection.
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	tests := []struct {
		name     string
		declared int64
		body     func(t *testing.T) []byte
		pad      int64
		maxBody  int64
		wantErr  string // "" for success
		wantKind string
	}{
		{"says 100, sends 10 MiB", 100, func(t *testing.T) []byte { return smallFeed(t, 100) }, tenMiB, 0, "", ""},
		{"says 10 MiB, sends 100 and closes", tenMiB, func(t *testing.T) []byte { return smallFeed(t, 100) }, 0, 0,
			"connection closed early by 127.0.0.1:", "connection"},
		{"says 10 MiB, sends 10 MiB, cap 1 MiB", tenMiB, func(t *testing.T) []byte { return smallFeed(t, 100) }, tenMiB - 100, 1 << 20,
			"body larger than 1 MiB", "too_large"},
		{"says 100, sends 10 MiB, cap 50 bytes", 100, func(t *testing.T) []byte { return smallFeed(t, 100) }, tenMiB, 50,
			"body larger than 50 bytes", "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, written := rawOrigin(t, lyingAnswer(tt.declared, tt.body(t), tt.pad))
			c := newTestClient()
			if tt.maxBody > 0 {
				c.MaxBody = tt.maxBody
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			resp, err := c.Fetch(context.Background(), newsdesk.Source{ID: "liar", URL: url}, newsdesk.FetchState{})
			runtime.ReadMemStats(&after)
			c.HTTP.CloseIdleConnections() // the liar's connection goes; its writes fail

			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Fetch() error = %v, want the declared 100 bytes parsed", err)
			case tt.wantErr == "":
				if resp.Bytes != 100 || len(resp.Items) != 1 {
					t.Errorf("Fetch() read %d bytes, %d items; want the declared 100 bytes and their 1 item", resp.Bytes, len(resp.Items))
				}
			case err == nil:
				t.Fatalf("Fetch() = %d items, want error %q", len(resp.Items), tt.wantErr)
			case !strings.HasPrefix(err.Error(), tt.wantErr):
				t.Errorf("Fetch() error = %v, want %q", err, tt.wantErr)
			}
			if got := ErrorKind(err); got != tt.wantKind {
				t.Errorf("ErrorKind() = %q, want %q", got, tt.wantKind)
			}
			// The 10 MiB the publisher pushed never reached the heap (reading
			// up to a 1 MiB cap takes about 2 MiB of growing buffers, 4
			// under -race).
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("Fetch() allocated %d MiB; the cap is %d bytes, the declared length %d", alloc>>20, c.maxBody(), tt.declared)
			}
			<-written // the origin is done: its writes ended or failed
		})
	}
}

// TestFetchBadContentLength: a Content-Length that is not a number, or two
// that disagree, is refused before any body is read, as an error that says
// so.
func TestFetchBadContentLength(t *testing.T) {
	for _, h := range []string{"Content-Length: -1", "Content-Length: lots", "Content-Length: 100\r\nContent-Length: 200"} {
		t.Run(h, func(t *testing.T) {
			url, _ := rawOrigin(t, func(w io.Writer) int64 {
				fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n%s\r\n\r\n", h)
				n, _ := w.Write(smallFeed(t, 100))
				return int64(n)
			})
			resp, err := newTestClient().Fetch(context.Background(), newsdesk.Source{ID: "liar", URL: url}, newsdesk.FetchState{})
			if err == nil {
				t.Fatalf("Fetch() = %d items, want an error", len(resp.Items))
			}
			if !strings.Contains(err.Error(), "Content-Length") {
				t.Errorf("Fetch() error = %v, want it to name the Content-Length", err)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Fetch() timed out instead of refusing the answer")
			}
		})
	}
}
