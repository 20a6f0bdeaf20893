package websubtest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hub is a WebSub hub (W3C Recommendation, 2018, sections 5 to 7) on
// loopback, written from the spec on its own so that newsdesk's
// subscriber is tested against a peer that shares none of its code. It
// accepts subscription requests with 202, verifies the intent against the
// callback with a challenge (on its own goroutine, or when the test says
// with Manual), keeps the verified subscriptions, and pushes content to
// them signed with the secret they gave (Algo), or with any signature a
// test wants (PushRaw).
type Hub struct {
	URL string // the hub's endpoint, for rel="hub"

	// Algo is the HMAC that Push signs with: "sha1" (the default, what
	// most hubs use), "sha256", "sha384" or "sha512".
	Algo string
	// Manual leaves verification to the test (Verify, Deny); otherwise the
	// hub verifies each request as soon as it has answered it.
	Manual bool

	t      testing.TB
	srv    *httptest.Server
	client *http.Client
	wg     sync.WaitGroup

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced at each event
	requests []Request
	verified []Verification
	subs     map[string]Request // verified subscriptions, by topic and callback
	fail     []int              // statuses to answer the next requests with
}

// Request is a subscription request the hub received.
type Request struct {
	Mode, Topic, Callback, Secret string
	LeaseSeconds                  int // 0: none asked
	At                            time.Time
}

// Verification is the outcome of a verification of intent.
type Verification struct {
	Request
	Status int   // the callback's answer
	OK     bool  // 2xx echoing the challenge
	Err    error // the request failed
}

// NewHub starts a hub; it stops at the end of the test.
func NewHub(t testing.TB) *Hub {
	h := &Hub{Algo: "sha1", t: t, changed: make(chan struct{}), subs: map[string]Request{},
		client: &http.Client{Timeout: 10 * time.Second}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	h.URL = h.srv.URL + "/hub"
	t.Cleanup(func() { h.srv.Close(); h.wg.Wait() })
	return h
}

// FailNext makes the hub answer the next requests with these statuses
// (and a body saying so), one each, before it accepts again.
func (h *Hub) FailNext(statuses ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail = append(h.fail, statuses...)
}

func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/hub" {
		http.Error(w, "POST /hub", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := Request{Mode: r.PostForm.Get("hub.mode"), Topic: r.PostForm.Get("hub.topic"),
		Callback: r.PostForm.Get("hub.callback"), Secret: r.PostForm.Get("hub.secret"), At: time.Now()}
	if s := r.PostForm.Get("hub.lease_seconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			http.Error(w, "hub.lease_seconds: not a positive number", http.StatusBadRequest)
			return
		}
		req.LeaseSeconds = n
	}
	cb, err := url.Parse(req.Callback)
	switch {
	case req.Mode != "subscribe" && req.Mode != "unsubscribe":
		http.Error(w, "hub.mode: subscribe or unsubscribe", http.StatusBadRequest)
		return
	case req.Topic == "":
		http.Error(w, "hub.topic missing", http.StatusBadRequest)
		return
	case err != nil || (cb.Scheme != "http" && cb.Scheme != "https"):
		http.Error(w, "hub.callback: not an http(s) URL", http.StatusBadRequest)
		return
	case len(req.Secret) >= 200:
		http.Error(w, "hub.secret: 200 bytes or more", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.requests = append(h.requests, req)
	var status int
	if len(h.fail) > 0 {
		status, h.fail = h.fail[0], h.fail[1:]
	}
	h.notifyLocked()
	h.mu.Unlock()
	if status != 0 {
		http.Error(w, fmt.Sprintf("hub refuses for the test (%d)\nsecond line", status), status)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	if !h.Manual {
		h.wg.Go(func() { h.Verify(req) })
	}
}

// notifyLocked wakes whoever waits for an event; h.mu is held.
func (h *Hub) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// Verify verifies the intent of req (WebSub 5.3): a GET to its callback
// with hub.mode, hub.topic, hub.challenge and, to subscribe,
// hub.lease_seconds (as asked, else 10 days). A 2xx echoing the challenge
// makes the subscription, or ends it.
func (h *Hub) Verify(req Request) Verification {
	challenge := token()
	q := url.Values{"hub.mode": {req.Mode}, "hub.topic": {req.Topic}, "hub.challenge": {challenge}}
	lease := req.LeaseSeconds
	if lease == 0 {
		lease = 10 * 24 * 3600
	}
	if req.Mode == "subscribe" {
		q.Set("hub.lease_seconds", strconv.Itoa(lease))
	}
	v := Verification{Request: req}
	status, body, err := h.get(req.Callback, q)
	v.Status, v.Err = status, err
	v.OK = err == nil && status/100 == 2 && body == challenge
	h.mu.Lock()
	defer h.mu.Unlock()
	if v.OK {
		key := req.Topic + " " + req.Callback
		if req.Mode == "subscribe" {
			h.subs[key] = req
		} else {
			delete(h.subs, key)
		}
	}
	h.verified = append(h.verified, v)
	h.notifyLocked()
	return v
}

// Deny tells req's callback that the hub refuses it (WebSub 5.2):
// hub.mode=denied with hub.reason. It returns the callback's status.
func (h *Hub) Deny(req Request, reason string) (int, error) {
	status, _, err := h.get(req.Callback, url.Values{"hub.mode": {"denied"}, "hub.topic": {req.Topic}, "hub.reason": {reason}})
	return status, err
}

// get sends a GET to callback with q added to its query, and returns the
// status and up to 4 KiB of the body.
func (h *Hub) get(callback string, q url.Values) (int, string, error) {
	u, err := url.Parse(callback)
	if err != nil {
		return 0, "", err
	}
	all := u.Query()
	for k, vs := range q {
		all[k] = vs
	}
	u.RawQuery = all.Encode()
	resp, err := h.client.Get(u.String())
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b), err
}

// Push distributes content (WebSub 7) to each verified subscription of
// topic: a POST of body with its Content-Type, the hub and self Link
// headers and, when the subscriber gave a secret, X-Hub-Signature under
// Algo. It returns the callbacks' statuses.
func (h *Hub) Push(topic, contentType string, body []byte) []int {
	h.mu.Lock()
	var subs []Request
	for _, s := range h.subs {
		if s.Topic == topic {
			subs = append(subs, s)
		}
	}
	h.mu.Unlock()
	var out []int
	for _, s := range subs {
		sig := ""
		if s.Secret != "" {
			sig = Signature(h.Algo, s.Secret, body)
		}
		status, err := h.PushRaw(s.Callback, topic, contentType, body, sig)
		if err != nil {
			h.t.Errorf("push to the callback: %v", err)
		}
		out = append(out, status)
	}
	return out
}

// PushRaw POSTs body to callback as a delivery of topic with the
// X-Hub-Signature sig as given (empty: none), and returns the status.
func (h *Hub) PushRaw(callback, topic, contentType string, body []byte, sig string) (int, error) {
	r, err := http.NewRequest(http.MethodPost, callback, strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	r.Header.Set("Content-Type", contentType)
	r.Header.Add("Link", "<"+h.URL+`>; rel="hub"`)
	r.Header.Add("Link", "<"+topic+`>; rel="self"`)
	if sig != "" {
		r.Header.Set("X-Hub-Signature", sig)
	}
	resp, err := h.client.Do(r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, nil
}

// Signature is the X-Hub-Signature of body under secret with the HMAC
// algo ("sha1", "sha256", "sha384", "sha512").
func Signature(algo, secret string, body []byte) string {
	var f func() hash.Hash
	switch algo {
	case "sha1":
		f = sha1.New
	case "sha256":
		f = sha256.New
	case "sha384":
		f = sha512.New384
	case "sha512":
		f = sha512.New
	default:
		panic("websubtest: unknown signature algorithm " + algo)
	}
	m := hmac.New(f, []byte(secret))
	m.Write(body)
	return algo + "=" + hex.EncodeToString(m.Sum(nil))
}

// Requests returns the subscription requests received so far, in order.
func (h *Hub) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.requests...)
}

// Renewals counts the subscribe requests for topic and callback after the
// first: the subscriber's renewals.
func (h *Hub) Renewals(topic, callback string) int {
	n := -1
	for _, r := range h.Requests() {
		if r.Mode == "subscribe" && r.Topic == topic && r.Callback == callback {
			n++
		}
	}
	return max(n, 0)
}

// Subscribed reports whether a verified subscription of topic by
// callback exists.
func (h *Hub) Subscribed(topic, callback string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.subs[topic+" "+callback]
	return ok
}

// WaitRequest waits until the hub has received n requests and returns
// the nth; it fails the test after 5 seconds.
func (h *Hub) WaitRequest(n int) Request {
	h.t.Helper()
	h.wait(fmt.Sprintf("request %d", n), func() bool { return len(h.requests) >= n })
	return h.Requests()[n-1]
}

// WaitVerified waits until the hub has made n verifications and returns
// the nth; it fails the test after 5 seconds.
func (h *Hub) WaitVerified(n int) Verification {
	h.t.Helper()
	h.wait(fmt.Sprintf("verification %d", n), func() bool { return len(h.verified) >= n })
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.verified[n-1]
}

// wait waits until cond, called with h.mu held, is true, for at most 5
// seconds (a generous bound: every step is on loopback).
func (h *Hub) wait(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		ok, changed := cond(), h.changed
		h.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			h.t.Fatalf("hub: no %s within 5s", what)
		}
	}
}

// token is a random challenge.
func token() string { return rand.Text() }
