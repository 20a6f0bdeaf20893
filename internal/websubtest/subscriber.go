package websubtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Subscriber is a WebSub subscriber on loopback. Each of its callbacks is
// a path under its server, named by the test (Callback). It answers a
// hub's verification of intent by echoing hub.challenge only for a topic
// and mode it asked for at that callback, and records each delivery on
// Deliveries, with whether its signature matched the secret it gave.
type Subscriber struct {
	// Deliveries receives every delivery, in the order they arrive
	// (buffered; a test that lets more than its capacity go unread blocks
	// the hub's requests).
	Deliveries chan Delivery
	// Verified receives each verification of intent the subscriber
	// confirmed or refused.
	Verified chan Confirmation

	srv *httptest.Server
	mu  sync.Mutex
	// asked are the requests the subscriber made, by callback path and
	// topic: the mode asked for and the secret given.
	asked map[string]intent
	// answers are the status each callback answers deliveries with
	// (default 200); holds the channels a slow callback waits on.
	answers map[string]int
	holds   map[string]chan struct{}
}

type intent struct{ mode, secret string }

// Delivery is a delivery a callback received.
type Delivery struct {
	Callback    string // its name, as given to Callback
	Topic       string // from the Link rel="self"
	Hub         string // from the Link rel="hub"
	ContentType string
	Body        []byte
	// Signature is the X-Hub-Signature sent; SignatureOK whether it is
	// the HMAC of the body under the secret the subscriber gave (false
	// when it gave none).
	Signature   string
	SignatureOK bool
}

// Confirmation is a hub's verification of intent as the subscriber saw it.
type Confirmation struct {
	Callback, Mode, Topic string
	LeaseSeconds          int
	Confirmed             bool // the challenge was echoed
}

// NewSubscriber starts a subscriber, closed when the test ends.
func NewSubscriber(t testing.TB) *Subscriber {
	s := &Subscriber{
		Deliveries: make(chan Delivery, 100),
		Verified:   make(chan Confirmation, 100),
		asked:      map[string]intent{},
		answers:    map[string]int{},
		holds:      map[string]chan struct{}{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.mu.Lock()
		for name, c := range s.holds {
			close(c)
			delete(s.holds, name)
		}
		s.mu.Unlock()
		s.srv.Close()
	})
	return s
}

// Callback returns the URL of the callback named name.
func (s *Subscriber) Callback(name string) string { return s.srv.URL + "/" + name }

// Options are a subscription request's optional parameters.
type Options struct {
	Secret       string
	LeaseSeconds int
	Extra        url.Values // sent as well (a hub must ignore what it does not know)
}

// Subscribe asks hub to deliver topic to the callback named name and
// returns the hub's status and answer.
func (s *Subscriber) Subscribe(ctx context.Context, hub, topic, name string, o Options) (int, string, error) {
	return s.request(ctx, hub, "subscribe", topic, name, o)
}

// Unsubscribe asks hub to end the subscription of the callback named name
// to topic.
func (s *Subscriber) Unsubscribe(ctx context.Context, hub, topic, name string) (int, string, error) {
	return s.request(ctx, hub, "unsubscribe", topic, name, Options{})
}

func (s *Subscriber) request(ctx context.Context, hub, mode, topic, name string, o Options) (int, string, error) {
	form := url.Values{}
	for k, v := range o.Extra {
		form[k] = v
	}
	form.Set("hub.mode", mode)
	form.Set("hub.topic", topic)
	form.Set("hub.callback", s.Callback(name))
	if o.Secret != "" {
		form.Set("hub.secret", o.Secret)
	}
	if o.LeaseSeconds != 0 {
		form.Set("hub.lease_seconds", strconv.Itoa(o.LeaseSeconds))
	}
	s.mu.Lock()
	s.asked["/"+name+" "+topic] = intent{mode, o.Secret}
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(body), err
}

// Answer makes the callback named name answer deliveries with code (0:
// 200 again).
func (s *Subscriber) Answer(name string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers["/"+name] = code
}

// Hold makes the callback named name slow: each delivery waits, before it
// is recorded and answered, until release is called (or the test ends).
func (s *Subscriber) Hold(name string) (release func()) {
	c := make(chan struct{})
	s.mu.Lock()
	s.holds["/"+name] = c
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.holds["/"+name] == c {
				delete(s.holds, "/"+name)
				close(c)
			}
			s.mu.Unlock()
		})
	}
}

func (s *Subscriber) serve(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.verify(w, r)
	case http.MethodPost:
		s.receive(w, r)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// verify confirms a verification of intent for a request the subscriber
// made (WebSub 5.3), and refuses any other with 404.
func (s *Subscriber) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := Confirmation{Callback: strings.TrimPrefix(r.URL.Path, "/"), Mode: q.Get("hub.mode"), Topic: q.Get("hub.topic")}
	v.LeaseSeconds, _ = strconv.Atoi(q.Get("hub.lease_seconds"))
	s.mu.Lock()
	in, ok := s.asked[r.URL.Path+" "+v.Topic]
	s.mu.Unlock()
	challenge := q.Get("hub.challenge")
	v.Confirmed = ok && in.mode == v.Mode && challenge != "" && (v.Mode != "subscribe" || v.LeaseSeconds > 0)
	s.Verified <- v
	if !v.Confirmed {
		http.NotFound(w, r)
		return
	}
	io.WriteString(w, challenge)
}

// receive records a content distribution (WebSub 7) and answers it.
func (s *Subscriber) receive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d := Delivery{
		Callback:    strings.TrimPrefix(r.URL.Path, "/"),
		ContentType: r.Header.Get("Content-Type"),
		Body:        body,
		Signature:   r.Header.Get("X-Hub-Signature"),
	}
	for _, l := range r.Header.Values("Link") {
		for _, part := range strings.Split(l, ",") {
			target, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			target = strings.Trim(strings.TrimSpace(target), "<>")
			switch strings.ReplaceAll(strings.TrimSpace(params), " ", "") {
			case `rel="self"`, "rel=self":
				d.Topic = target
			case `rel="hub"`, "rel=hub":
				d.Hub = target
			}
		}
	}
	s.mu.Lock()
	in := s.asked[r.URL.Path+" "+d.Topic]
	hold := s.holds[r.URL.Path]
	code := s.answers[r.URL.Path]
	s.mu.Unlock()
	d.SignatureOK = in.secret != "" && signed(in.secret, body, d.Signature)
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}
	s.Deliveries <- d
	if code == 0 {
		code = http.StatusOK
	}
	w.WriteHeader(code)
}

// signed reports whether sig (METHOD=HEX) is the HMAC of body under
// secret.
func signed(secret string, body []byte, sig string) bool {
	method, digest, _ := strings.Cut(sig, "=")
	h := map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New}[method]
	got, err := hex.DecodeString(digest)
	if h == nil || err != nil {
		return false
	}
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return hmac.Equal(m.Sum(nil), got)
}
