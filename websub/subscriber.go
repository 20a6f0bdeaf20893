package websub

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Subscriber is newsdesk's subscriber role: it subscribes sources whose
// feed advertises a hub (After, Run), answers the hubs' verifications and
// takes their deliveries (ServeHTTP, at BASE/websub/callback/SOURCE/TOKEN),
// and forgets the subscriptions of sources gone from feeds.yaml (Tidy).
// Set its fields before it is used; they are not changed afterwards.
type Subscriber struct {
	Store store.WebSubStore
	// BaseURL is server.base_url, the address hubs reach newsdesk at;
	// empty: nothing is subscribed.
	BaseURL string
	// Client sends the requests to hubs; the caller passes one that goes
	// through the address guard.
	Client *http.Client
	Now    func() time.Time
	Log    *slog.Logger
	// Ingest stores what a hub pushed for a source (fetcher's
	// Scheduler.Ingest).
	Ingest func(ctx context.Context, sourceID string, body []byte, contentType string) error
	// Sources returns the configured sources.
	Sources func() []newsdesk.Source
	// LeaseSeconds is the lease asked for; 0: newsdesk.DefaultLeaseSeconds.
	LeaseSeconds int

	// Metric hooks, each optional. OnRequest counts a request to a hub by
	// mode ("subscribe", "unsubscribe") and result ("ok", "failed").
	// OnDelivery counts a delivery to a source's callback (the id from
	// its path, which may not be a configured source) by result: "ok", "unsigned",
	// "bad_signature", "too_large", "unknown" (no such subscription),
	// "ingest_error".
	OnRequest  func(mode, result string)
	OnDelivery func(sourceID, result string)

	mu      sync.Mutex // serializes the read-modify-write of subscriptions
	cache   map[string]newsdesk.PushSubscription
	cacheAt time.Time
	busy    map[string]bool // sources whose step is being taken
	wake    chan struct{}
	wakeMu  sync.Mutex
}

// CallbackPath is the path the hubs call, followed by SOURCE/TOKEN.
const CallbackPath = "/websub/callback/"

// retryBackoff is how long a failed request to a hub waits, by the
// number of failures in a row.
var retryBackoff = []time.Duration{5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}

// requestTimeout bounds one request to a hub.
const requestTimeout = 30 * time.Second

func (s *Subscriber) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Subscriber) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// source returns the configured source id.
func (s *Subscriber) source(id string) (newsdesk.Source, bool) {
	if s.Sources == nil {
		return newsdesk.Source{}, false
	}
	for _, src := range s.Sources() {
		if src.ID == id {
			return src, true
		}
	}
	return newsdesk.Source{}, false
}

// subscription returns the stored subscription of a source; found false
// when there is none.
func (s *Subscriber) subscription(id string) (newsdesk.PushSubscription, bool, error) {
	p, err := s.Store.PushSubscription(id)
	if errors.Is(err, newsdesk.ErrNotFound) {
		return p, false, nil
	}
	return p, err == nil, err
}

// cached calls fn with the cache of subscriptions, loaded at first use.
func (s *Subscriber) cached(fn func(map[string]newsdesk.PushSubscription)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cachedLocked(fn)
}

// cachedLocked is cached with s.mu held. The cache is read again from the
// store once it is cacheFor old, for the changes another instance sharing
// the store made (its callbacks may take the hub's verifications).
func (s *Subscriber) cachedLocked(fn func(map[string]newsdesk.PushSubscription)) {
	if now := s.now(); s.cache == nil || now.Sub(s.cacheAt) >= cacheFor || now.Before(s.cacheAt) {
		subs, err := s.Store.PushSubscriptions()
		if err != nil {
			s.log().Error("could not read the websub subscriptions", "error", err)
		}
		if err == nil || s.cache == nil {
			s.cache, s.cacheAt = map[string]newsdesk.PushSubscription{}, now
		}
		for _, p := range subs {
			s.cache[p.SourceID] = p
		}
	}
	fn(s.cache)
}

// cacheFor is how long PushActive trusts its copy of the subscriptions.
const cacheFor = time.Minute

// PushActive reports whether the hub of a source pushes its items now:
// the scheduler's hook (fetcher.Scheduler.PushActive). It reads memory
// only.
func (s *Subscriber) PushActive(sourceID string) bool {
	var active bool
	now := s.now()
	s.cached(func(c map[string]newsdesk.PushSubscription) { active = c[sourceID].Active(now) })
	return active
}

// After decides, with Plan, what to do for a source whose fetch was just
// committed with the state st, and does it: subscribe, renew, or
// unsubscribe. Its errors are recorded in the subscription and logged.
func (s *Subscriber) After(ctx context.Context, st newsdesk.FetchState) {
	src, ok := s.source(st.SourceID)
	if !ok {
		return
	}
	s.step(ctx, src, st.WebSub)
}

// step plans and takes the step for src, whose feed advertises links.
// No lock is held while a hub is asked: a hub may verify before it
// answers, and the callback must find the subscription then.
func (s *Subscriber) step(ctx context.Context, src newsdesk.Source, links newsdesk.WebSubLinks) {
	s.mu.Lock()
	if s.busy[src.ID] { // After and Run at once: one is enough
		s.mu.Unlock()
		return
	}
	sub, found, err := s.subscription(src.ID)
	if err != nil {
		s.mu.Unlock()
		s.log().Error("could not read the websub subscription", "source", src.ID, "error", err)
		return
	}
	st := Plan(src, s.BaseURL, links, sub, found, s.now())
	if st.Zero() {
		s.mu.Unlock()
		return
	}
	if s.busy == nil {
		s.busy = map[string]bool{}
	}
	s.busy[src.ID] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.busy, src.ID)
		s.mu.Unlock()
	}()

	log := s.log().With("source", src.ID, "why", st.Why)
	if st.Unsubscribe {
		s.unsubscribe(ctx, sub, !st.Subscribe, log)
	}
	if st.Delete {
		s.update(log, sub, func(*newsdesk.PushSubscription) bool { return false })
	}
	if st.Subscribe {
		s.subscribe(ctx, src.ID, st, sub, log)
	}
}

// update changes the stored subscription of was.SourceID with fn, when it
// is still was (same token and request time; nothing stored when was has
// no token), and stores the result, or removes it when fn returns false.
func (s *Subscriber) update(log *slog.Logger, was newsdesk.PushSubscription, fn func(*newsdesk.PushSubscription) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, found, err := s.subscription(was.SourceID)
	if err == nil && (found != (was.Token != "") || found && (cur.Token != was.Token || !cur.RequestedAt.Equal(was.RequestedAt))) {
		return // changed meanwhile (verified, replaced): that stands
	}
	if err == nil {
		err = s.putLocked(cur, fn(&cur))
	}
	if err != nil {
		log.Error("could not store the websub subscription", "error", err)
	}
}

// putLocked stores p (keep) or removes it, with s.mu held, and keeps the
// cache PushActive reads in step.
func (s *Subscriber) putLocked(p newsdesk.PushSubscription, keep bool) error {
	if !keep {
		if err := s.Store.DeletePushSubscription(p.SourceID); err != nil {
			return fmt.Errorf("delete the websub subscription of %s: %w", p.SourceID, err)
		}
		s.cachedLocked(func(c map[string]newsdesk.PushSubscription) { delete(c, p.SourceID) })
		return nil
	}
	if err := s.Store.SavePushSubscription(p); err != nil {
		return fmt.Errorf("save the websub subscription of %s: %w", p.SourceID, err)
	}
	s.cachedLocked(func(c map[string]newsdesk.PushSubscription) { c[p.SourceID] = p })
	s.kick()
	return nil
}

// put stores p, replacing what the source had.
func (s *Subscriber) put(log *slog.Logger, p newsdesk.PushSubscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.putLocked(p, true); err != nil {
		log.Error("could not store the websub subscription", "error", err)
	}
}

// subscribe asks st.Hub to push st.Topic for source id and records the
// outcome; prev is the stored subscription, whose token and secret a
// renewal keeps. The request is stored before it is sent, so that the
// hub's verification finds it.
func (s *Subscriber) subscribe(ctx context.Context, id string, st Step, prev newsdesk.PushSubscription, log *slog.Logger) {
	now := s.now()
	p := newsdesk.PushSubscription{SourceID: id, Hub: st.Hub, Topic: st.Topic, State: newsdesk.PushRequested, RequestedAt: now}
	if st.Renew {
		p.Token, p.Secret, p.LastPush = prev.Token, prev.Secret, prev.LastPush
		if (prev.State == newsdesk.PushActive || prev.State == newsdesk.PushFailed) && now.Before(prev.LeaseEnd) {
			p.State, p.LeaseEnd = newsdesk.PushActive, prev.LeaseEnd // pushes go on while the hub verifies
		}
	} else {
		p.Token, p.Secret = randomHex(16), randomHex(32)
	}
	if prev.State == newsdesk.PushFailed && prev.Hub == p.Hub && prev.Topic == p.Topic {
		p.Failures = prev.Failures
	}
	lease := s.LeaseSeconds
	if lease <= 0 {
		lease = newsdesk.DefaultLeaseSeconds
	}
	s.put(log, p)
	err := s.request(ctx, "subscribe", p, lease)
	if err == nil {
		log.Info("websub subscription requested", "hub", p.Hub, "topic", p.Topic)
		return
	}
	failures := p.Failures + 1
	next := now.Add(retryBackoff[min(failures, len(retryBackoff))-1])
	log.Warn("websub subscription request failed", "hub", p.Hub, "error", err, "next_try", next.Format(time.RFC3339))
	s.update(log, p, func(q *newsdesk.PushSubscription) bool {
		q.State, q.Reason, q.Failures, q.NextTry = newsdesk.PushFailed, err.Error(), failures, next
		return true
	})
}

// unsubscribe asks p's hub to end it. When keep is set the subscription
// is kept as unsubscribing until the hub verifies; otherwise (it is being
// replaced) nothing is stored. A request that fails forgets it: the hub
// stops when its deliveries are refused or the lease ends.
func (s *Subscriber) unsubscribe(ctx context.Context, p newsdesk.PushSubscription, keep bool, log *slog.Logger) {
	q := p
	if keep {
		q.State, q.RequestedAt, q.Reason = newsdesk.PushUnsubscribing, s.now(), ""
		s.put(log, q)
	}
	if err := s.request(ctx, "unsubscribe", p, 0); err != nil {
		log.Warn("websub unsubscription request failed: the subscription is forgotten", "hub", p.Hub, "error", err)
		if keep {
			s.update(log, q, func(*newsdesk.PushSubscription) bool { return false })
		}
		return
	}
	log.Info("websub unsubscription requested", "hub", p.Hub)
}

// request POSTs a subscription request for p to its hub. Its error says
// what the hub answered (status and the first line of its body), with the
// secret and token taken out.
func (s *Subscriber) request(ctx context.Context, mode string, p newsdesk.PushSubscription, lease int) (err error) {
	defer func() {
		if s.OnRequest != nil {
			s.OnRequest(mode, map[bool]string{true: "ok", false: "failed"}[err == nil])
		}
	}()
	form := url.Values{"hub.mode": {mode}, "hub.topic": {p.Topic}, "hub.callback": {s.callback(p)}}
	if mode == "subscribe" {
		form.Set("hub.secret", p.Secret)
		form.Set("hub.lease_seconds", strconv.Itoa(lease))
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("hub %s: %w", p.Hub, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return errors.New(redact(err.Error(), p))
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(io.LimitReader(resp.Body, 512)).ReadString('\n')
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		msg := fmt.Sprintf("hub answered %d", resp.StatusCode)
		if line = strings.TrimSpace(line); line != "" {
			msg += ": " + line
		}
		return errors.New(redact(msg, p))
	}
	return nil
}

// callback is the callback URL of p.
func (s *Subscriber) callback(p newsdesk.PushSubscription) string {
	return strings.TrimRight(s.BaseURL, "/") + CallbackPath + url.PathEscape(p.SourceID) + "/" + p.Token
}

// redact takes p's secret and token out of msg, which may echo them.
func redact(msg string, p newsdesk.PushSubscription) string {
	for _, secret := range []string{p.Secret, p.Token} {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "[redacted]")
		}
	}
	return msg
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Tidy ends the subscriptions of sources no longer in sources or with
// websub off: after a reload.
func (s *Subscriber) Tidy(ctx context.Context, sources []newsdesk.Source) error {
	subs, err := s.Store.PushSubscriptions()
	if err != nil {
		return fmt.Errorf("tidy websub subscriptions: %w", err)
	}
	for _, p := range subs {
		src := newsdesk.Source{ID: p.SourceID}
		for _, c := range sources {
			if c.ID == p.SourceID {
				src = c
			}
		}
		if !src.WebSub {
			s.step(ctx, src, newsdesk.WebSubLinks{})
		}
	}
	return nil
}

// RenewDue renews, retries or ends the subscriptions whose time has come
// (Due) and returns when the next one is due (zero: none). Run calls it;
// tests call it with an injected clock.
func (s *Subscriber) RenewDue(ctx context.Context) time.Time {
	subs, err := s.Store.PushSubscriptions()
	if err != nil {
		s.log().Error("could not read the websub subscriptions", "error", err)
		return s.now().Add(time.Minute)
	}
	var next time.Time
	for _, p := range subs {
		if ctx.Err() != nil {
			break
		}
		due, _ := Due(p)
		if due.IsZero() {
			continue
		}
		if !s.now().Before(due) {
			src, _ := s.source(p.SourceID) // gone: Plan ends it
			s.step(ctx, src, newsdesk.WebSubLinks{Hubs: []string{p.Hub}, Self: p.Topic})
			if q, found, err := s.subscription(p.SourceID); err == nil && found {
				due, _ = Due(q)
			} else {
				continue
			}
		}
		if !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	return next
}

// Run renews and retries subscriptions when they are due, also while no
// fetch of their source happens (a lease of an hour is renewed even though
// the source is polled every 6 hours), until ctx is done.
func (s *Subscriber) Run(ctx context.Context) error {
	wake := s.wakeChan()
	for {
		next := s.RenewDue(ctx)
		wait := time.Hour
		if !next.IsZero() {
			wait = min(max(next.Sub(s.now()), time.Second), time.Hour)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-wake:
			t.Stop()
		}
	}
}

func (s *Subscriber) wakeChan() chan struct{} {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	return s.wake
}

// kick wakes Run: a subscription changed, its next due time may be
// earlier.
func (s *Subscriber) kick() {
	select {
	case s.wakeChan() <- struct{}{}:
	default:
	}
}

// tokenEqual compares tokens in constant time.
func tokenEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
