package websub

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/netguard"
	"github.com/newsdesk/newsdesk/store"
)

// Site is what the hub needs of the site it is the hub of.
// *publisher.Server satisfies it.
type Site interface {
	// WebSubTopic resolves a hub.topic URL to the section and format
	// (newsdesk.FormatRSS...) it names, or says why it cannot be
	// subscribed to (another server's URL, an unknown section, a private
	// section without its token) in an error that does not repeat it.
	WebSubTopic(topic string) (section, format string, err error)
	// SectionFile returns the current file of a section in a format: its
	// body, Content-Type and the ChangedAt of the version it shows.
	SectionFile(section, format string) (body []byte, contentType string, changedAt time.Time, err error)
	// SectionVersions returns the ChangedAt of every section served, by id.
	SectionVersions() map[string]time.Time
}

// Hub limits' defaults.
const (
	DefaultMaxPerSection = 1000
	DefaultMaxPerHost    = 100
	DefaultMaxPending    = 100
	DefaultWorkers       = 8
	// MaxSubscribeRequest caps a subscription request's body.
	MaxSubscribeRequest = 64 << 10
	// HubTimeout bounds a verification or a delivery, the whole
	// exchange with the callback.
	HubTimeout = 10 * time.Second
	// hubMaxAnswer caps what is read of a callback's answer.
	hubMaxAnswer = 64 << 10
	// hubTidyEvery is how often expired subscriptions are removed.
	hubTidyEvery = time.Hour
)

// DefaultBackoff is how long a failed delivery waits before each retry; it
// is given up when these are spent (about a day).
var DefaultBackoff = []time.Duration{
	time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	6 * time.Hour, 6 * time.Hour, 6 * time.Hour, 6 * time.Hour,
}

// Hub is newsdesk's WebSub hub for its own sections (see the package
// comment). Set the fields, mount it at POST BASE/websub, run Run on a
// goroutine, and Poke it after each render. The zero values of the limits
// take their defaults.
type Hub struct {
	Store store.WebSubStore
	Site  Site
	// URL is the hub's own URL (BASE/websub), sent in every delivery's
	// Link header.
	URL string
	// Client makes the requests to callbacks; nil: one that refuses
	// loopback and private addresses (netguard) unless AllowPrivate.
	// Redirects are never followed, whichever client.
	Client       *http.Client
	AllowPrivate bool
	// PingClient makes the requests to external hubs (Ping), which the
	// operator configured; nil: a plain client.
	PingClient *http.Client
	// Holder names this instance's delivery claims.
	Holder string
	Now    func() time.Time
	Log    *slog.Logger

	MaxPerSection int // stored subscriptions per section
	MaxPerHost    int // stored subscriptions per callback host
	MaxPending    int // verifications waiting; when full: 503
	Workers       int // deliveries (and verifications) in parallel
	Backoff       []time.Duration

	// Metric hooks, each optional. CountRequest: a subscription request
	// answered (mode, and "accepted" or the requestError's status code);
	// CountVerification: a verification's outcome (mode, "verified" or
	// "failed"); CountDelivery: a delivery's outcome ("sent", "retry",
	// "gave_up", "gone").
	CountRequest      func(mode, outcome string)
	CountVerification func(mode, outcome string)
	CountDelivery     func(outcome string)

	once    sync.Once
	pending chan verification
	poke    chan struct{}
	client  *http.Client
}

// verification is a request waiting for its verification of intent.
type verification struct {
	mode, topic, section, format, callback, secret string
	lease                                          int
}

func (h *Hub) init() {
	h.once.Do(func() {
		if h.Now == nil {
			h.Now = time.Now
		}
		if h.Log == nil {
			h.Log = slog.New(slog.DiscardHandler)
		}
		h.MaxPerSection = limitOr(h.MaxPerSection, DefaultMaxPerSection)
		h.MaxPerHost = limitOr(h.MaxPerHost, DefaultMaxPerHost)
		h.MaxPending = limitOr(h.MaxPending, DefaultMaxPending)
		h.Workers = limitOr(h.Workers, DefaultWorkers)
		if len(h.Backoff) == 0 {
			h.Backoff = DefaultBackoff
		}
		h.pending = make(chan verification, h.MaxPending)
		h.poke = make(chan struct{}, 1)
		h.client = h.callbackClient()
	})
}

func limitOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// callbackClient is Client, or a guarded one, made never to follow a
// redirect: a callback that redirects is answered with its 3xx.
func (h *Hub) callbackClient() *http.Client {
	c := h.Client
	if c == nil {
		base := http.DefaultTransport.(*http.Transport).Clone()
		c = &http.Client{Transport: base}
		if !h.AllowPrivate {
			c.Transport = netguard.Transport(base)
		}
	}
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// Poke tells the hub that sections changed (a render swapped in new
// versions) or that the clock moved; it never blocks.
func (h *Hub) Poke() {
	h.init()
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

// requestError is a subscription request refused: its status and the reason
// the subscriber is told.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func refuseRequest(code int, format string, args ...any) *requestError {
	return &requestError{code, fmt.Sprintf(format, args...)}
}

// ServeHTTP answers a subscription request (POST BASE/websub): 202
// Accepted when it is well-formed and queued for verification, else 4xx
// (503 when too many wait) with the reason in plain text.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.init()
	v, err := h.parse(w, r)
	if err == nil {
		err = h.enqueue(v)
	}
	outcome := "accepted"
	var rf *requestError
	if errors.As(err, &rf) {
		outcome = strconv.Itoa(rf.code)
		if rf.code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "60")
		}
		if rf.code == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		http.Error(w, rf.msg, rf.code)
	} else {
		w.WriteHeader(http.StatusAccepted)
	}
	if h.CountRequest != nil {
		h.CountRequest(v.mode, outcome)
	}
}

// parse checks a subscription request and returns what to verify.
func (h *Hub) parse(w http.ResponseWriter, r *http.Request) (verification, error) {
	var v verification
	if r.Method != http.MethodPost {
		return v, refuseRequest(http.StatusMethodNotAllowed, "the hub takes POST requests (application/x-www-form-urlencoded)")
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return v, refuseRequest(http.StatusUnsupportedMediaType, "send the request as application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxSubscribeRequest)
	if err := r.ParseForm(); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return v, refuseRequest(http.StatusRequestEntityTooLarge, "the request is over %d bytes", MaxSubscribeRequest)
		}
		return v, refuseRequest(http.StatusBadRequest, "the request's form cannot be read: %v", err)
	}
	f := r.PostForm
	v.mode = f.Get("hub.mode")
	switch v.mode {
	case "subscribe", "unsubscribe":
	case "publish":
		return v, refuseRequest(http.StatusBadRequest, "hub.mode=publish: this hub only publishes its own sections, and learns of their changes itself")
	case "":
		return v, refuseRequest(http.StatusBadRequest, "hub.mode is missing: give subscribe or unsubscribe")
	default:
		v.mode = "other"
		return v, refuseRequest(http.StatusBadRequest, "hub.mode must be subscribe or unsubscribe")
	}
	v.topic = f.Get("hub.topic")
	if v.topic == "" {
		return v, refuseRequest(http.StatusBadRequest, "hub.topic is missing: give the URL of the section feed")
	}
	var err error
	if v.section, v.format, err = h.Site.WebSubTopic(v.topic); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, newsdesk.ErrNotFound) {
			code = http.StatusNotFound
		}
		return v, refuseRequest(code, "%v", err)
	}
	v.callback = f.Get("hub.callback")
	if err := checkHubCallback(v.callback); err != nil {
		return v, refuseRequest(http.StatusBadRequest, "hub.callback %v", err)
	}
	v.secret = f.Get("hub.secret")
	if len(v.secret) > newsdesk.MaxHubSecret {
		return v, refuseRequest(http.StatusBadRequest, "hub.secret is %d bytes: it must be under 200", len(v.secret))
	}
	v.lease = newsdesk.DefaultLeaseSeconds
	if s := f.Get("hub.lease_seconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return v, refuseRequest(http.StatusBadRequest, "hub.lease_seconds must be a positive whole number of seconds")
		}
		v.lease = min(max(n, newsdesk.MinLeaseSeconds), newsdesk.MaxLeaseSeconds)
	}
	if v.mode == "subscribe" {
		return v, h.checkCaps(v)
	}
	return v, nil
}

// checkHubCallback checks a hub.callback: an absolute http(s) URL without
// userinfo or fragment. Where it may connect is checked when it is
// dialed.
func checkHubCallback(raw string) error {
	if raw == "" {
		return errors.New("is missing: give the URL the hub is to verify and deliver to")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return errors.New("must be an absolute http or https URL")
	case u.User != nil:
		return errors.New("must not carry a user name or password")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment (#...)")
	}
	return nil
}

// logHost is what is logged and capped of a callback: its host, never
// its path or query, which may carry a token.
func logHost(callback string) string {
	if u, err := url.Parse(callback); err == nil {
		return strings.ToLower(u.Hostname())
	}
	return "?"
}

// checkCaps refuses a new subscription when its section or its callback's
// host has as many live ones as allowed; renewing one is always allowed.
func (h *Hub) checkCaps(v verification) error {
	now, host := h.Now(), logHost(v.callback)
	var perSection, perHost int
	renewal := false
	err := h.Store.HubSubscriptions(func(s newsdesk.HubSubscription) bool {
		if !now.Before(s.Expires) {
			return true
		}
		if s.Topic == v.topic && s.Callback == v.callback {
			renewal = true
			return false
		}
		if s.Section == v.section {
			perSection++
		}
		if logHost(s.Callback) == host {
			perHost++
		}
		return true
	})
	switch {
	case err != nil:
		h.Log.Error("websub: list subscriptions", "error", err)
		return refuseRequest(http.StatusServiceUnavailable, "the hub cannot read its subscriptions: try again later")
	case renewal:
		return nil
	case perSection >= h.MaxPerSection:
		return refuseRequest(http.StatusForbidden, "section %q has %d subscriptions, as many as this hub takes", v.section, perSection)
	case perHost >= h.MaxPerHost:
		return refuseRequest(http.StatusForbidden, "callback host %s has %d subscriptions, as many as this hub takes", host, perHost)
	}
	return nil
}

func (h *Hub) enqueue(v verification) error {
	select {
	case h.pending <- v:
		return nil
	default:
		return refuseRequest(http.StatusServiceUnavailable, "%d requests are waiting for verification: try again in a minute", h.MaxPending)
	}
}

// newHubChallenge returns a random hub.challenge.
func newHubChallenge() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}
