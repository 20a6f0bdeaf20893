package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
)

// origin serves the feeds, each on its own loopback address (Linux routes
// all of 127.0.0.0/8 to lo), so that newsdesk's per-host limits see as many
// hosts as sources. A request with the feed's ETag in If-None-Match is
// answered 304.
type origin struct {
	feeds   []feed
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

// startOrigin listens on one loopback address per feed and serves them
// until ctx ends.
func startOrigin(ctx context.Context, feeds []feed) (*origin, error) {
	o := &origin{feeds: feeds, urls: make([]string, len(feeds))}
	for i := range feeds {
		ln, err := net.Listen("tcp", hostAddr(i)+":0")
		if err != nil {
			o.close()
			return nil, fmt.Errorf("origin: listen on %s: %w (the benchmark needs 127.0.0.0/8 routed to lo, as Linux does)", hostAddr(i), err)
		}
		o.urls[i] = fmt.Sprintf("http://%s/feeds/%s.xml", ln.Addr(), feeds[i].id)
		srv := &http.Server{Handler: o.handler(i)}
		o.servers = append(o.servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				o.other.Add(1)
			}
		}()
	}
	go func() { <-ctx.Done(); o.close() }()
	return o, nil
}

func (o *origin) handler(i int) http.Handler {
	f := o.feeds[i]
	path := "/feeds/" + f.id + ".xml"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			o.other.Add(1)
			http.NotFound(w, r)
			return
		}
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

func (o *origin) close() {
	for _, s := range o.servers {
		s.Close()
	}
}
