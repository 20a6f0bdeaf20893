package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// origin serves the feeds, each on its own loopback address (Linux routes
// all of 127.0.0.0/8 to lo), so that newsdesk's per-host limits see as many
// hosts as sources. A request with the feed's ETag in If-None-Match is
// answered 304.
type origin struct {
	feed    func(i int) feed // what source i serves now
	urls    []string
	servers []*http.Server
	ok      atomic.Int64 // 200 responses since the last reset
	notMod  atomic.Int64 // 304 responses since the last reset
	other   atomic.Int64 // anything else
}

// hostAddr is the loopback address of source i: 127.1.0.1, 127.1.0.2, ...
func hostAddr(i int) string {
	return fmt.Sprintf("127.%d.%d.%d", 1+i/(250*250), (i/250)%250, i%250+1)
}

// staticFeeds serves feeds as they are.
func staticFeeds(feeds []feed) func(int) feed {
	return func(i int) feed { return feeds[i] }
}

// startOrigin listens on one loopback address for each of n sources, the
// feed of source i being feed(i) at the time of the request, and serves
// them until ctx ends or close is called.
func startOrigin(ctx context.Context, n int, feed func(int) feed) (*origin, error) {
	if err := raiseOpenFiles(openFilesFor(n)); err != nil {
		return nil, err
	}
	o := &origin{feed: feed, urls: make([]string, n)}
	for i := range n {
		ln, err := net.Listen("tcp", hostAddr(i)+":0")
		if err != nil {
			o.close()
			return nil, fmt.Errorf("origin: listen on %s: %w (the benchmark needs 127.0.0.0/8 routed to lo, as Linux does)", hostAddr(i), err)
		}
		o.urls[i] = fmt.Sprintf("http://%s/feeds/%s.xml", ln.Addr(), sourceID(i))
		// Idle connections are closed as a web server's keep-alive timeout
		// does, so that 10,000 hosts do not hold 10,000 of them.
		srv := &http.Server{Handler: o.handler(i), IdleTimeout: 30 * time.Second, ReadHeaderTimeout: 10 * time.Second}
		o.servers = append(o.servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				o.other.Add(1)
			}
		}()
	}
	context.AfterFunc(ctx, o.close)
	return o, nil
}

func (o *origin) handler(i int) http.Handler {
	path := "/feeds/" + sourceID(i) + ".xml"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			o.other.Add(1)
			http.NotFound(w, r)
			return
		}
		f := o.feed(i)
		w.Header().Set("ETag", f.etag)
		if r.Header.Get("If-None-Match") == f.etag {
			o.notMod.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		o.ok.Add(1)
		w.Header().Set("Content-Type", f.contentType)
		w.Write(f.body)
	})
}

// counts returns the responses since the last call and starts counting
// anew.
func (o *origin) counts() (ok, notModified, other int64) {
	return o.ok.Swap(0), o.notMod.Swap(0), o.other.Swap(0)
}

// close stops every listener and connection; it may be called more than
// once.
func (o *origin) close() {
	for _, s := range o.servers {
		s.Close()
	}
}
