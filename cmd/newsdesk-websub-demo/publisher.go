package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// publisher is a news site with its own WebSub hub, as many publishers
// run (or rent): its Atom feed at /feed.atom advertises the hub at /hub,
// which verifies a subscriber's intent and pushes each new story, signed
// with HMAC-SHA1 as most hubs in use still sign.
type publisher struct {
	base string
	srv  *http.Server
	log  *demoLog

	mu      sync.Mutex
	stories []story
	subs    map[string]hubSub // by callback
	polls   int               // GETs of the feed
	changed chan struct{}     // closed and replaced when subs changes
}

type story struct {
	ID, Title, Link string
	Published       time.Time
}

type hubSub struct {
	callback, secret string
}

func startPublisher(addr string, log *demoLog) (*publisher, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("the publisher cannot listen: %w (choose another address with -publisher)", err)
	}
	p := &publisher{base: "http://" + ln.Addr().String(), log: log, subs: map[string]hubSub{}, changed: make(chan struct{})}
	p.stories = []story{{ID: p.base + "/stories/0", Title: "The wire is open", Link: p.base + "/stories/0", Published: time.Now().Add(-time.Hour)}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.atom", p.serveFeed)
	mux.HandleFunc("POST /hub", p.serveHub)
	mux.HandleFunc("GET /stories/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<p>a story</p>") })
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *publisher) close() { p.srv.Close() }

func (p *publisher) feedURL() string { return p.base + "/feed.atom" }
func (p *publisher) hubURL() string  { return p.base + "/hub" }

// serveFeed answers a poll with every story.
func (p *publisher) serveFeed(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.polls++
	body := p.atom(p.stories)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Add("Link", "<"+p.hubURL()+`>; rel="hub"`)
	w.Header().Add("Link", "<"+p.feedURL()+`>; rel="self"`)
	w.Write(body)
}

// atom renders stories as the Atom feed, newest first.
func (p *publisher) atom(stories []story) []byte {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	updated := stories[len(stories)-1].Published
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Demo Wire</title>
  <id>%s</id>
  <updated>%s</updated>
  <link rel="alternate" href="%s/"/>
  <link rel="self" href="%s"/>
  <link rel="hub" href="%s"/>
  <author><name>Demo Wire desk</name></author>
`, esc(p.feedURL()), updated.UTC().Format(time.RFC3339), esc(p.base), esc(p.feedURL()), esc(p.hubURL()))
	for i := len(stories) - 1; i >= 0; i-- {
		s := stories[i]
		fmt.Fprintf(&b, `  <entry>
    <title>%s</title>
    <id>%s</id>
    <link href="%s"/>
    <published>%s</published>
    <updated>%s</updated>
    <summary>%s</summary>
  </entry>
`, esc(s.Title), esc(s.ID), esc(s.Link), s.Published.UTC().Format(time.RFC3339Nano), s.Published.UTC().Format(time.RFC3339Nano), esc(s.Title))
	}
	b.WriteString("</feed>\n")
	return b.Bytes()
}

// serveHub takes a subscription request: 202, then the verification of
// intent, then the subscription.
func (p *publisher) serveHub(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	mode, topic, callback := r.PostForm.Get("hub.mode"), r.PostForm.Get("hub.topic"), r.PostForm.Get("hub.callback")
	if (mode != "subscribe" && mode != "unsubscribe") || topic != p.feedURL() || callback == "" {
		http.Error(w, "this hub takes subscribe and unsubscribe requests for "+p.feedURL(), http.StatusBadRequest)
		return
	}
	lease := r.PostForm.Get("hub.lease_seconds")
	if lease == "" {
		lease = "86400"
	}
	w.WriteHeader(http.StatusAccepted)
	go p.verify(mode, callback, r.PostForm.Get("hub.secret"), lease)
}

func (p *publisher) verify(mode, callback, secret, lease string) {
	challenge := randomHex(16)
	q := url.Values{"hub.mode": {mode}, "hub.topic": {p.feedURL()}, "hub.challenge": {challenge}, "hub.lease_seconds": {lease}}
	u, err := url.Parse(callback)
	if err != nil {
		return
	}
	u.RawQuery = mergeQuery(u.RawQuery, q)
	resp, err := http.Get(u.String())
	if err != nil {
		p.log.printf("publisher's hub: could not verify a subscriber: %v", err)
		return
	}
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || string(got) != challenge {
		p.log.printf("publisher's hub: a subscriber did not confirm (%s)", resp.Status)
		return
	}
	p.mu.Lock()
	if mode == "subscribe" {
		p.subs[callback] = hubSub{callback: callback, secret: secret}
	} else {
		delete(p.subs, callback)
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	p.log.printf("publisher's hub: newsdesk %sd (lease %s s)", mode, lease)
}

// subscribed waits until a subscriber has confirmed its subscription.
func (p *publisher) subscribed(ctx context.Context) error {
	p.log.printf("publisher: waiting for newsdesk to fetch %s and subscribe at its hub", p.feedURL())
	for {
		p.mu.Lock()
		n, changed := len(p.subs), p.changed
		p.mu.Unlock()
		if n > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// publish adds a story and pushes it, alone, to every subscriber: hubs
// may send only what is new.
func (p *publisher) publish(title string) story {
	p.mu.Lock()
	n := len(p.stories)
	s := story{ID: p.base + "/stories/" + strconv.Itoa(n), Title: title, Link: p.base + "/stories/" + strconv.Itoa(n), Published: time.Now()}
	p.stories = append(p.stories, s)
	body := p.atom([]story{s})
	subs := make([]hubSub, 0, len(p.subs))
	for _, sub := range p.subs {
		subs = append(subs, sub)
	}
	p.mu.Unlock()
	p.log.printf("publisher: published %q and pushed it to %d subscriber(s)", s.Title, len(subs))
	for _, sub := range subs {
		go p.push(sub, body)
	}
	return s
}

func (p *publisher) push(sub hubSub, body []byte) {
	req, err := http.NewRequest(http.MethodPost, sub.callback, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/atom+xml; charset=utf-8")
	req.Header.Add("Link", "<"+p.hubURL()+`>; rel="hub"`)
	req.Header.Add("Link", "<"+p.feedURL()+`>; rel="self"`)
	if sub.secret != "" {
		m := hmac.New(sha1.New, []byte(sub.secret))
		m.Write(body)
		req.Header.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(m.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.log.printf("publisher's hub: push failed: %v", err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		p.log.printf("publisher's hub: push answered %s", resp.Status)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// mergeQuery appends q to a URL's raw query.
func mergeQuery(raw string, q url.Values) string {
	if raw == "" {
		return q.Encode()
	}
	return raw + "&" + q.Encode()
}

// publishedAt returns when the story at link was published.
func (p *publisher) publishedAt(link string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.stories {
		if s.Link == link {
			return s.Published, true
		}
	}
	return time.Time{}, false
}

// polled returns how many times the feed was fetched.
func (p *publisher) polled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.polls
}
