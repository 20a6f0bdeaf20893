package websub_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/internal/websubtest"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/websub"
)

// The subscriber against a spec-shaped hub on loopback
// (internal/websubtest), numbered as the websub.rocks subscriber tests:
// the real fetcher and bbolt store, real HTTP, and an injected clock for
// leases and retries.

const atomFeed = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Pushed</title><id>urn:pushed</id><updated>2026-12-01T10:00:00Z</updated>
<link rel="hub" href="%s"/><link rel="self" href="%s"/>
%s</feed>`

func entry(n int) string {
	return fmt.Sprintf(`<entry><title>Entry %d</title><id>urn:e%d</id><updated>2026-12-01T1%d:00:00Z</updated><link href="https://example.org/%d"/><content type="html">&lt;p&gt;Story %d&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;</content></entry>`, n, n, n, n, n)
}

// rig is a source whose feed names hub, fetched by a scheduler whose
// commits drive the subscriber, whose callback server is BASE.
type rig struct {
	t      *testing.T
	clock  *clock
	db     *bolt.DB
	hub    *websubtest.Hub
	sched  *fetcher.Scheduler
	sub    *websub.Subscriber
	self   string
	mu     sync.Mutex
	src    newsdesk.Source
	counts map[string]int
	pushes int
}

func newRig(t *testing.T, lease int) *rig {
	t.Helper()
	r := &rig{t: t, clock: &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}, hub: websubtest.NewHub(t), counts: map[string]int{}}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml")
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprintf(w, atomFeed, r.hub.URL, r.self, entry(1)+entry(2))
	}))
	t.Cleanup(origin.Close)
	r.self = origin.URL + "/feed"
	r.src = newsdesk.Source{ID: "a", URL: origin.URL + "/feed", Interval: 10 * time.Minute, IntervalSet: true, WebSub: true}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
	log := slog.New(slog.DiscardHandler)
	r.sched = fetcher.NewScheduler(fetcher.NewClient("newsdesk-test"), db, []newsdesk.Source{r.src}, log)
	r.sched.Now = r.clock.Now
	r.sched.Client.Now = r.clock.Now
	r.sub = &websub.Subscriber{
		Store: db, Client: &http.Client{Timeout: 10 * time.Second}, Now: r.clock.Now, Log: log, LeaseSeconds: lease,
		Ingest: func(ctx context.Context, id string, body []byte, ct string) error {
			_, err := r.sched.Ingest(ctx, id, body, ct)
			return err
		},
		Sources:    func() []newsdesk.Source { return []newsdesk.Source{r.source()} },
		OnDelivery: func(_, result string) { r.mu.Lock(); r.counts[result]++; r.mu.Unlock() },
	}
	mux := http.NewServeMux()
	mux.Handle(websub.CallbackPath, r.sub)
	callbacks := httptest.NewServer(mux)
	t.Cleanup(callbacks.Close)
	r.sub.BaseURL = callbacks.URL
	r.sched.OnCommit = func(o fetcher.Outcome) { r.sub.After(context.Background(), o.State) }
	r.sched.OnPush = func(string, store.PushResult) { r.mu.Lock(); r.pushes++; r.mu.Unlock() }
	r.sched.PushActive = r.sub.PushActive
	return r
}

func (r *rig) source() newsdesk.Source {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.src
}

func (r *rig) count(result string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[result]
}

// fetch runs a forced pass over the source.
func (r *rig) fetch() newsdesk.FetchState {
	r.t.Helper()
	out, err := r.sched.RunOnce(context.Background(), []newsdesk.Source{r.source()}, true, nil, nil)
	if err != nil || len(out) != 1 || out[0].Err != nil {
		r.t.Fatalf("fetch: %v %+v", err, out)
	}
	return out[0].State
}

// subscription is the stored subscription of the source.
func (r *rig) subscription() newsdesk.PushSubscription {
	r.t.Helper()
	p, err := r.db.PushSubscription("a")
	if err != nil {
		r.t.Fatalf("PushSubscription(a): %v", err)
	}
	return p
}

// subscribed fetches the source and waits for the hub's verification.
func (r *rig) subscribed() websubtest.Verification {
	r.t.Helper()
	r.fetch()
	v := r.hub.WaitVerified(1)
	if !v.OK {
		r.t.Fatalf("verification = %+v, want a 2xx echoing the challenge", v)
	}
	return v
}

func TestSubscriber200_SubscribesToHub(t *testing.T) {
	r := newRig(t, 3600)
	r.hub.Manual = true
	r.fetch()
	req := r.hub.WaitRequest(1)
	if req.Mode != "subscribe" || req.Topic != r.self || req.LeaseSeconds != 3600 {
		t.Errorf("request = %s %s lease %d, want subscribe %s lease 3600", req.Mode, req.Topic, req.LeaseSeconds, r.self)
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(r.sub.BaseURL) + `/websub/callback/a/[0-9a-f]{32}$`).MatchString(req.Callback) {
		t.Errorf("callback = %q, want BASE/websub/callback/a/TOKEN", req.Callback)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(req.Secret) {
		t.Errorf("secret is %d characters, want 32 random bytes in hex", len(req.Secret))
	}
	if p := r.subscription(); p.State != newsdesk.PushRequested || r.sub.PushActive("a") {
		t.Errorf("before verification: state %q, PushActive %v; want requested, false", p.State, r.sub.PushActive("a"))
	}
}

func TestSubscriber201_VerifiesIntent(t *testing.T) {
	r := newRig(t, 3600)
	r.subscribed()
	p := r.subscription()
	if want := r.clock.Now().Add(time.Hour); p.State != newsdesk.PushActive || !p.LeaseEnd.Equal(want) {
		t.Errorf("after verification: state %q, lease end %v; want active until %v", p.State, p.LeaseEnd, want)
	}
	if !r.sub.PushActive("a") {
		t.Error("PushActive(a) = false after verification, want true")
	}
	// The safety net: the next fetch is due 6 h later, not in 10 minutes.
	if st := r.fetch(); st.NextDue.Before(r.clock.Now().Add(newsdesk.SafetyNetInterval)) {
		t.Errorf("next due %v after a fetch while push is active, want at least %v", st.NextDue.Sub(r.clock.Now()), newsdesk.SafetyNetInterval)
	}
}

func TestSubscriber202_VerifiesUnsubscribeAskedFor(t *testing.T) {
	r := newRig(t, 3600)
	r.subscribed()
	req := r.hub.Requests()[0]
	// An unsubscribe newsdesk did not ask for is refused.
	req.Mode = "unsubscribe"
	if v := r.hub.Verify(req); v.OK || v.Status != http.StatusNotFound {
		t.Errorf("unsubscribe not asked for: %+v, want 404", v)
	}
	if p := r.subscription(); p.State != newsdesk.PushActive {
		t.Errorf("state %q after a refused unsubscribe, want active", p.State)
	}
}

func TestSubscriber203_IgnoresVerificationForOtherTopic(t *testing.T) {
	r := newRig(t, 3600)
	r.hub.Manual = true
	r.fetch()
	req := r.hub.WaitRequest(1)
	other := req
	other.Topic = "https://elsewhere.example/feed"
	if v := r.hub.Verify(other); v.OK || v.Status != http.StatusNotFound {
		t.Errorf("verification of another topic: %+v, want 404", v)
	}
	wrongToken := req
	wrongToken.Callback = req.Callback[:strings.LastIndex(req.Callback, "/")+1] + strings.Repeat("0", 32)
	if v := r.hub.Verify(wrongToken); v.OK || v.Status != http.StatusNotFound {
		t.Errorf("verification with another token: %+v, want 404", v)
	}
	if p := r.subscription(); p.State != newsdesk.PushRequested {
		t.Errorf("state %q after refused verifications, want requested", p.State)
	}
	if v := r.hub.Verify(req); !v.OK {
		t.Errorf("verification of what was asked: %+v, want OK", v)
	}
}

func TestSubscriber204_Resubscribes(t *testing.T) {
	r := newRig(t, 3600)
	r.subscribed()
	first := r.hub.Requests()[0]
	r.clock.Advance(29 * time.Minute)
	r.sub.RenewDue(context.Background())
	if n := r.hub.Renewals(first.Topic, first.Callback); n != 0 {
		t.Fatalf("%d renewals before half the lease, want 0", n)
	}
	r.clock.Advance(2 * time.Minute)
	next := r.sub.RenewDue(context.Background())
	if n := r.hub.Renewals(first.Topic, first.Callback); n != 1 {
		t.Fatalf("%d renewals after half the lease, want 1", n)
	}
	renewal := r.hub.Requests()[1]
	if renewal.Secret != first.Secret || renewal.Callback != first.Callback {
		t.Error("the renewal changed the callback or secret, want the same (deliveries in flight stay valid)")
	}
	if !r.sub.PushActive("a") {
		t.Error("PushActive(a) = false while the renewal is verified, want true")
	}
	if v := r.hub.WaitVerified(2); !v.OK {
		t.Fatalf("renewal verification = %+v", v)
	}
	if p, want := r.subscription(), r.clock.Now().Add(time.Hour); !p.LeaseEnd.Equal(want) {
		t.Errorf("lease end after renewal = %v, want %v", p.LeaseEnd, want)
	}
	if next.IsZero() || next.After(r.clock.Now().Add(time.Hour)) {
		t.Errorf("RenewDue() next = %v, want before the lease ends", next)
	}
}

func TestSubscriber205_Unsubscribes(t *testing.T) {
	r := newRig(t, 3600)
	r.subscribed()
	first := r.hub.Requests()[0]
	r.mu.Lock()
	r.src.WebSub = false
	r.mu.Unlock()
	if err := r.sub.Tidy(context.Background(), []newsdesk.Source{r.source()}); err != nil {
		t.Fatal(err)
	}
	req := r.hub.WaitRequest(2)
	if req.Mode != "unsubscribe" || req.Topic != first.Topic || req.Callback != first.Callback {
		t.Errorf("request = %+v, want an unsubscribe of the subscription", req)
	}
	if v := r.hub.WaitVerified(2); !v.OK {
		t.Fatalf("unsubscribe verification = %+v, want OK", v)
	}
	if _, err := r.db.PushSubscription("a"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("PushSubscription(a) after the unsubscription = %v, want ErrNotFound", err)
	}
	if r.sub.PushActive("a") {
		t.Error("PushActive(a) = true after the unsubscription")
	}
	if got := r.hub.Push(first.Topic, "application/atom+xml", []byte("x")); len(got) != 0 {
		t.Errorf("pushes after the hub ended the subscription: %v", got)
	}
	if status, _ := r.hub.PushRaw(first.Callback, first.Topic, "application/atom+xml", []byte("x"), websubtest.Signature("sha1", first.Secret, []byte("x"))); status != http.StatusNotFound {
		t.Errorf("delivery after the unsubscription answered %d, want 404", status)
	}
}

// push pushes a feed with entries 3 (new) and 1 (known) and returns the
// statuses.
func (r *rig) push() []int {
	return r.hub.Push(r.self, "application/atom+xml", []byte(fmt.Sprintf(atomFeed, r.hub.URL, r.self, entry(3)+entry(1))))
}

func TestSubscriber300_ContentDistribution(t *testing.T) {
	r := newRig(t, 3600)
	r.subscribed()
	before, err := r.db.State("a")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	statuses := r.push()
	if len(statuses) != 1 || statuses[0]/100 != 2 {
		t.Fatalf("push answered %v, want one 2xx", statuses)
	}
	it, err := r.db.Item("a", "urn:e3")
	if took := time.Since(start); err != nil || took > time.Second {
		t.Fatalf("pushed item: %v after %v, want it stored within 1 s", err, took)
	}
	if strings.Contains(it.Content, "script") {
		t.Errorf("pushed content = %q, want it sanitized like a fetch", it.Content)
	}
	if n, _ := r.db.CountItems("a"); n != 3 {
		t.Errorf("%d items after the push, want 3 (2 fetched, 1 pushed)", n)
	}
	after, _ := r.db.State("a")
	if after.ETag != before.ETag || !after.NextDue.Equal(before.NextDue) || !after.LastFetch.Equal(before.LastFetch) || len(after.History) != len(before.History) {
		t.Errorf("state after the push: ETag %q next due %v, want unchanged %q %v", after.ETag, after.NextDue, before.ETag, before.NextDue)
	}
	if p := r.subscription(); !p.LastPush.Equal(r.clock.Now()) {
		t.Errorf("LastPush = %v, want %v", p.LastPush, r.clock.Now())
	}
	if r.count("ok") != 1 || r.pushes != 1 {
		t.Errorf("deliveries ok %d, OnPush %d; want 1, 1", r.count("ok"), r.pushes)
	}
}

func TestSubscriber301_302_SignaturesAccepted(t *testing.T) {
	for _, algo := range []string{"sha1", "sha256", "sha384", "sha512"} {
		t.Run(algo, func(t *testing.T) {
			r := newRig(t, 3600)
			r.hub.Algo = algo
			r.subscribed()
			if got := r.push(); len(got) != 1 || got[0]/100 != 2 {
				t.Fatalf("push answered %v", got)
			}
			if n, _ := r.db.CountItems("a"); n != 3 || r.count("ok") != 1 {
				t.Errorf("%d items, %d deliveries taken; want 3, 1", n, r.count("ok"))
			}
		})
	}
}

func TestSubscriber303_304_RejectsBadOrMissingSignature(t *testing.T) {
	for _, tt := range []struct{ name, sig, counted string }{
		{"303 invalid", "sha256=" + strings.Repeat("ab", 32), "bad_signature"},
		{"303 other secret", websubtest.Signature("sha1", "not the secret", []byte("x")), "bad_signature"},
		{"303 unknown method", "md5=00", "bad_signature"},
		{"304 unsigned", "", "unsigned"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, 3600)
			r.subscribed()
			req := r.hub.Requests()[0]
			body := fmt.Sprintf(atomFeed, r.hub.URL, r.self, entry(3))
			status, err := r.hub.PushRaw(req.Callback, r.self, "application/atom+xml", []byte(body), tt.sig)
			if err != nil || status != http.StatusAccepted {
				t.Fatalf("delivery answered %d %v, want 202 (dropped quietly)", status, err)
			}
			if n, _ := r.db.CountItems("a"); n != 2 || r.count(tt.counted) != 1 || r.pushes != 0 {
				t.Errorf("%d items, %d counted %s, %d ingested; want 2, 1, 0", n, r.count(tt.counted), tt.counted, r.pushes)
			}
		})
	}
}

func TestSubscriberDenied(t *testing.T) {
	r := newRig(t, 3600)
	r.hub.Manual = true
	r.fetch()
	req := r.hub.WaitRequest(1)
	if status, err := r.hub.Deny(req, "not on this hub"); err != nil || status != http.StatusOK {
		t.Fatalf("denial answered %d %v, want 200", status, err)
	}
	p := r.subscription()
	if p.State != newsdesk.PushDenied || !strings.Contains(p.Reason, "not on this hub") {
		t.Errorf("after denial: %q %q, want denied with the hub's reason", p.State, p.Reason)
	}
	r.clock.Advance(48 * time.Hour)
	r.fetch()
	r.sub.RenewDue(context.Background())
	if n := len(r.hub.Requests()); n != 1 {
		t.Errorf("%d requests after a denial, want 1: a denied subscription is not asked again", n)
	}
}

func TestSubscriberFailedRequestBacksOff(t *testing.T) {
	r := newRig(t, 3600)
	r.hub.FailNext(500, 503)
	r.fetch()
	p := r.subscription()
	if p.State != newsdesk.PushFailed || !strings.Contains(p.Reason, "500") || !strings.Contains(p.Reason, "hub refuses") || strings.Contains(p.Reason, "second line") {
		t.Errorf("after a 500: %q %q, want failed with the status and the first line of the body", p.State, p.Reason)
	}
	if strings.Contains(p.Reason, p.Secret) || strings.Contains(p.Reason, p.Token) {
		t.Error("the reason holds the secret or token")
	}
	if want := r.clock.Now().Add(5 * time.Minute); !p.NextTry.Equal(want) {
		t.Errorf("NextTry = %v, want %v", p.NextTry, want)
	}
	r.clock.Advance(4 * time.Minute)
	r.sub.RenewDue(context.Background())
	if n := len(r.hub.Requests()); n != 1 {
		t.Fatalf("%d requests before NextTry, want 1", n)
	}
	r.clock.Advance(time.Minute)
	r.sub.RenewDue(context.Background())
	if p := r.subscription(); len(r.hub.Requests()) != 2 || p.Failures != 2 || !p.NextTry.Equal(r.clock.Now().Add(30*time.Minute)) {
		t.Fatalf("second try: %d requests, %d failures, next try in %v; want 2, 2, 30m", len(r.hub.Requests()), p.Failures, p.NextTry.Sub(r.clock.Now()))
	}
	if reqs := r.hub.Requests(); reqs[1].Callback != reqs[0].Callback || reqs[1].Secret != reqs[0].Secret {
		t.Error("the retry changed the callback or secret, want the same")
	}
	r.clock.Advance(30 * time.Minute)
	r.sub.RenewDue(context.Background())
	if v := r.hub.WaitVerified(1); !v.OK {
		t.Fatalf("third try verification = %+v", v)
	}
	if p := r.subscription(); p.State != newsdesk.PushActive || p.Failures != 0 || p.Reason != "" {
		t.Errorf("after success: %q, %d failures, reason %q; want active, 0, none", p.State, p.Failures, p.Reason)
	}
}
