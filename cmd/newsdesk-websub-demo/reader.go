package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk/websub"
)

// reader is a feed reader that subscribes to a newsdesk section over
// WebSub: it finds the hub in the feed's Link header, subscribes with a
// secret, confirms the hub's verification, checks each delivery's
// signature and prints the stories it has not seen, with how long after
// publication they arrived.
type reader struct {
	feed   string // the section's Atom feed
	base   string // the reader's callback server
	pub    *publisher
	srv    *http.Server
	log    *demoLog
	secret string

	mu    sync.Mutex
	topic string
	seen  map[string]bool
	got   int
	// since is when the reader subscribed: stories published before it
	// are not news to it.
	since time.Time
	// latencies are how long after publication each story arrived.
	latencies []time.Duration
	verified  chan struct{} // closed when newsdesk's hub verified the subscription
	arrived   chan struct{} // closed and replaced on each new story
}

func startReader(addr, feed string, pub *publisher, log *demoLog) (*reader, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("the reader cannot listen: %w (choose another address with -reader)", err)
	}
	rd := &reader{feed: feed, base: "http://" + ln.Addr().String(), pub: pub, log: log, secret: randomHex(24),
		seen: map[string]bool{}, verified: make(chan struct{}), arrived: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", rd.confirm)
	mux.HandleFunc("POST /callback", rd.deliver)
	rd.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go rd.srv.Serve(ln)
	return rd, nil
}

func (rd *reader) close() { rd.srv.Close() }

// subscribe finds the section's hub and subscribes there, waiting for the
// verification of intent.
func (rd *reader) subscribe(ctx context.Context) error {
	hub, self, err := rd.discover(ctx)
	if err != nil {
		return err
	}
	rd.mu.Lock()
	rd.topic, rd.since = self, time.Now()
	rd.mu.Unlock()
	form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {self}, "hub.callback": {rd.base + "/callback"},
		"hub.secret": {rd.secret}, "hub.lease_seconds": {"3600"}}
	resp, err := http.PostForm(hub, form)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s: %s", hub, resp.Status, bytes.TrimSpace(msg))
	}
	select {
	case <-rd.verified:
		rd.log.printf("reader: subscribed to %s at newsdesk's hub %s", self, hub)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("newsdesk's hub did not verify the subscription: %w", ctx.Err())
	}
}

// discover reads the section feed until newsdesk serves it, and returns
// the hub and self it advertises; the stories already in it are not news.
func (rd *reader) discover(ctx context.Context) (hub, self string, err error) {
	for {
		resp, err := http.Get(rd.feed)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
			resp.Body.Close()
			links := websub.ParseLinks(resp.Header.Values("Link"), resp.Request.URL)
			if resp.StatusCode == http.StatusOK && len(links.Hubs) > 0 && links.Self != "" {
				rd.news(body, true)
				return links.Hubs[0], links.Self, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", "", fmt.Errorf("%s advertises no hub yet: %w", rd.feed, ctx.Err())
		case <-time.After(500 * time.Millisecond): // polling a server the user starts by hand
		}
	}
}

// confirm answers the hub's verification of intent for our topic.
func (rd *reader) confirm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rd.mu.Lock()
	topic := rd.topic
	rd.mu.Unlock()
	if q.Get("hub.mode") != "subscribe" || q.Get("hub.topic") != topic {
		http.NotFound(w, r)
		return
	}
	io.WriteString(w, q.Get("hub.challenge"))
	rd.mu.Lock()
	select {
	case <-rd.verified:
	default:
		close(rd.verified)
	}
	rd.mu.Unlock()
}

// deliver takes a delivery: the section's whole new feed, signed.
func (rd *reader) deliver(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := websub.Verify(rd.secret, body, r.Header.Get(websub.SignatureHeader)); err != nil {
		rd.log.printf("reader: dropped a delivery: %v", err)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.WriteHeader(http.StatusNoContent)
	rd.news(body, false)
}

// news prints the stories of a feed body not seen before; those of the
// initial feed are not news.
func (rd *reader) news(body []byte, initial bool) {
	feed, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		rd.log.printf("reader: not a feed: %v", err)
		return
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	for i := len(feed.Items) - 1; i >= 0; i-- {
		it := feed.Items[i]
		if rd.seen[it.Link] {
			continue
		}
		rd.seen[it.Link] = true
		at, ours := rd.pub.publishedAt(it.Link)
		if initial || (ours && at.Before(rd.since)) {
			continue // old news
		}
		rd.got++
		if ours {
			late := time.Since(at)
			rd.latencies = append(rd.latencies, late)
			rd.log.printf("reader: new item %q, %.2f s after it was published", it.Title, late.Seconds())
		} else {
			rd.log.printf("reader: new item %q", it.Title)
		}
	}
	close(rd.arrived)
	rd.arrived = make(chan struct{})
}

// received waits until n stories have reached the reader.
func (rd *reader) received(ctx context.Context, n int) error {
	for {
		rd.mu.Lock()
		got, arrived := rd.got, rd.arrived
		rd.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d stories reached the reader: %w", got, n, ctx.Err())
		case <-arrived:
		}
	}
}
