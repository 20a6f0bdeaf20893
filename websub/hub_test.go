package websub_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/websubtest"
	"github.com/newsdesk/newsdesk/websub"
)

// checkDelivered publishes to source and checks that one delivery of the
// topic's current file reaches the callback named name, with its
// Content-Type and the hub and self links.
func (f *fixture) checkDelivered(name, topic, source string) websubtest.Delivery {
	f.t.Helper()
	f.publish(source)
	rs := f.deliver()
	if len(rs) != 1 || rs[0].Result != "200" {
		f.t.Fatalf("Deliver() = %+v, want one delivery answered 200", rs)
	}
	d := f.received()
	body, ctype := f.get(topic)
	switch {
	case d.Callback != name:
		f.t.Errorf("delivered to %q, want %q", d.Callback, name)
	case !bytes.Equal(d.Body, body):
		f.t.Errorf("delivered body:\n%s\nwant the topic's current file:\n%s", d.Body, body)
	case d.ContentType != ctype:
		f.t.Errorf("delivered Content-Type %q, want %q", d.ContentType, ctype)
	case d.Topic != topic || d.Hub != f.hub.URL:
		f.t.Errorf("delivered links self %q hub %q, want %q and %q", d.Topic, d.Hub, topic, f.hub.URL)
	}
	return d
}

// TestHub100_TypicalSubscriber: a subscription without secret is verified
// with the default lease, stored sent the current version (nothing is
// delivered until the section changes), and a change is delivered once.
func TestHub100_TypicalSubscriber(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatAtom)
	code, _, err := f.sub.Subscribe(t.Context(), f.hub.URL, topic, "reader", websubtest.Options{})
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("subscribe = %d, %v; want 202", code, err)
	}
	if n := f.hub.VerifyPending(t.Context()); n != 1 {
		t.Fatalf("VerifyPending() = %d, want 1", n)
	}
	v := <-f.sub.Verified
	if !v.Confirmed || v.Mode != "subscribe" || v.Topic != topic || v.LeaseSeconds != newsdesk.DefaultLeaseSeconds {
		t.Fatalf("verification %+v, want subscribe of %s for %d s, confirmed", v, topic, newsdesk.DefaultLeaseSeconds)
	}
	subs := f.subscriptions()
	if len(subs) != 1 || subs[0].Section != "world" || subs[0].Format != "atom" || subs[0].Secret != "" ||
		!subs[0].Expires.Equal(f.clock.Now().Add(newsdesk.DefaultLeaseSeconds*time.Second)) ||
		!subs[0].Sent.Equal(f.pub.SectionVersions()["world"]) {
		t.Fatalf("stored %+v, want world/atom until now+10 days, sent the current version", subs)
	}
	if rs := f.deliver(); len(rs) != 0 {
		t.Fatalf("Deliver() before a change = %+v, want nothing", rs)
	}
	d := f.checkDelivered("reader", topic, "a")
	if d.Signature != "" {
		t.Errorf("unsigned subscription delivered with X-Hub-Signature %q", d.Signature)
	}
	if !bytes.Contains(d.Body, []byte("Story 2 from a")) {
		t.Errorf("the delivery lacks the new item:\n%s", d.Body)
	}
}

// TestHub101_SubscriberIncludesSecret: every delivery is signed with the
// secret, and the subscriber peer finds the signature right.
func TestHub101_SubscriberIncludesSecret(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatRSS)
	f.mustSubscribe("signed", topic, websubtest.Options{Secret: testSecret})
	d := f.checkDelivered("signed", topic, "a")
	if !d.SignatureOK || !strings.HasPrefix(d.Signature, "sha256=") {
		t.Errorf("signature %q ok=%v, want a sha256 HMAC the subscriber verifies", d.Signature, d.SignatureOK)
	}
}

// TestHub102_AdditionalParameters: parameters the hub does not know are
// ignored.
func TestHub102_AdditionalParameters(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatAtom)
	f.mustSubscribe("extra", topic, websubtest.Options{Extra: url.Values{"foo": {"bar"}, "hub.extra": {"1"}}})
	f.checkDelivered("extra", topic, "a")
}

// TestHub103_ResubscribeBeforeExpiry: a renewal keeps one subscription and
// extends its lease; its creation and delivery state are kept.
func TestHub103_ResubscribeBeforeExpiry(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatAtom)
	f.mustSubscribe("renew", topic, websubtest.Options{LeaseSeconds: 3600})
	created := f.clock.Now()
	f.clock.Advance(30 * time.Minute)
	f.mustSubscribe("renew", topic, websubtest.Options{LeaseSeconds: 7200})
	subs := f.subscriptions()
	if len(subs) != 1 {
		t.Fatalf("%d subscriptions after renewal, want 1", len(subs))
	}
	if s := subs[0]; s.LeaseSeconds != 7200 || !s.Expires.Equal(f.clock.Now().Add(2*time.Hour)) || !s.Created.Equal(created) {
		t.Errorf("renewed %+v, want lease 7200 s ending at %v, created %v", s, f.clock.Now().Add(2*time.Hour), created)
	}
	f.checkDelivered("renew", topic, "a")
}

// TestHub104_Unsubscribe: a verified unsubscribe removes the subscription;
// the next change is delivered to no one.
func TestHub104_Unsubscribe(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatAtom)
	f.mustSubscribe("leaving", topic, websubtest.Options{})
	code, _, err := f.sub.Unsubscribe(t.Context(), f.hub.URL, topic, "leaving")
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("unsubscribe = %d, %v; want 202", code, err)
	}
	f.hub.VerifyPending(t.Context())
	if v := <-f.sub.Verified; !v.Confirmed || v.Mode != "unsubscribe" || v.LeaseSeconds != 0 {
		t.Fatalf("verification %+v, want an unsubscribe without lease, confirmed", v)
	}
	if subs := f.subscriptions(); len(subs) != 0 {
		t.Fatalf("stored after unsubscribe: %+v", subs)
	}
	f.publish("a")
	if rs := f.deliver(); len(rs) != 0 {
		t.Errorf("Deliver() after unsubscribe = %+v, want nothing", rs)
	}
	if n := len(f.sub.Deliveries); n != 0 {
		t.Errorf("the subscriber got %d deliveries after unsubscribing, want 0", n)
	}
}

// TestHub105_PlaintextContent: content other than a feed, the section's
// HTML page, is delivered as served, with its own Content-Type.
func TestHub105_PlaintextContent(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatHTML)
	f.mustSubscribe("page", topic, websubtest.Options{})
	if d := f.checkDelivered("page", topic, "a"); !strings.HasPrefix(d.ContentType, "text/html") {
		t.Errorf("Content-Type %q, want text/html", d.ContentType)
	}
}

// TestHub106_JSONContent: the JSON Feed is delivered as application/feed+json.
func TestHub106_JSONContent(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatJSON)
	f.mustSubscribe("json", topic, websubtest.Options{})
	if d := f.checkDelivered("json", topic, "a"); d.ContentType != "application/feed+json" {
		t.Errorf("Content-Type %q, want application/feed+json", d.ContentType)
	}
}

// TestHubVerificationFails: a callback that does not confirm (it never
// asked, or answers without the challenge) gets no subscription.
func TestHubVerificationFails(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatAtom)
	form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.callback": {f.sub.Callback("stranger")}}
	if code, body := f.post("application/x-www-form-urlencoded", form.Encode()); code != http.StatusAccepted {
		t.Fatalf("request = %d %q, want 202 (verification decides)", code, body)
	}
	f.hub.VerifyPending(t.Context())
	if v := <-f.sub.Verified; v.Confirmed {
		t.Fatalf("the peer confirmed a subscription it never asked for: %+v", v)
	}
	if subs := f.subscriptions(); len(subs) != 0 {
		t.Errorf("stored after a failed verification: %+v", subs)
	}
	if !strings.Contains(f.logged(), "verification failed") || !strings.Contains(f.logged(), "http 404") {
		t.Errorf("log does not say the verification failed with http 404:\n%s", f.logged())
	}
}

// TestHubRetriesWithBackoff: a callback answering 500 is tried again after
// each backoff on the clock, and is delivered when it recovers; one that
// never does is given up, the version counted as sent.
func TestHubRetriesWithBackoff(t *testing.T) {
	f := newFixture(t, func(h *websub.Hub) { h.Backoff = []time.Duration{time.Minute, 5 * time.Minute} })
	topic := f.topic("world", newsdesk.FormatAtom)
	f.mustSubscribe("flaky", topic, websubtest.Options{})
	f.sub.Answer("flaky", http.StatusInternalServerError)
	f.publish("a")
	rs := f.deliver()
	if len(rs) != 1 || rs[0].Result != "http 500" || rs[0].Failures != 1 || !rs[0].NextTry.Equal(f.clock.Now().Add(time.Minute)) {
		t.Fatalf("first Deliver() = %+v, want http 500, retry in a minute", rs)
	}
	f.received()
	f.clock.Advance(59 * time.Second)
	if rs := f.deliver(); len(rs) != 0 {
		t.Fatalf("Deliver() before the retry is due = %+v, want nothing", rs)
	}
	f.clock.Advance(time.Second)
	f.sub.Answer("flaky", 0)
	if rs := f.deliver(); len(rs) != 1 || rs[0].Result != "200" {
		t.Fatalf("retry = %+v, want 200", rs)
	}
	if d := f.received(); !bytes.Contains(d.Body, []byte("Story 2 from a")) {
		t.Errorf("the retry did not carry the new version:\n%s", d.Body)
	}

	// It fails for good: two retries, then given up.
	f.sub.Answer("flaky", http.StatusBadGateway)
	f.publish("a")
	for i, wait := range []time.Duration{0, time.Minute, 5 * time.Minute} {
		f.clock.Advance(wait)
		rs := f.deliver()
		if len(rs) != 1 {
			t.Fatalf("attempt %d: Deliver() = %+v, want one", i+1, rs)
		}
		f.received()
		if i == 2 && (rs[0].Result != "gave up after 3 attempts: http 502" || rs[0].Sent.IsZero()) {
			t.Errorf("attempt 3 = %+v, want it given up, sent", rs[0])
		}
	}
	f.clock.Advance(time.Hour)
	if rs := f.deliver(); len(rs) != 0 {
		t.Errorf("Deliver() after giving up = %+v, want nothing until the next change", rs)
	}
	if s := f.subscriptions(); len(s) != 1 || !strings.HasPrefix(s[0].LastResult, "gave up") {
		t.Errorf("stored %+v, want the subscription kept, its last result the giving up", s)
	}
}

// TestHubGone: a callback answering 410 Gone ends its subscription.
func TestHubGone(t *testing.T) {
	f := newFixture(t)
	f.mustSubscribe("gone", f.topic("world", newsdesk.FormatAtom), websubtest.Options{})
	f.sub.Answer("gone", http.StatusGone)
	f.publish("a")
	if rs := f.deliver(); len(rs) != 1 || !rs[0].Gone {
		t.Fatalf("Deliver() = %+v, want one, gone", rs)
	}
	f.received()
	if s := f.subscriptions(); len(s) != 0 {
		t.Errorf("stored after 410: %+v", s)
	}
}

// TestHubExpiredLease: a subscription whose lease ended gets no delivery,
// and is removed by the hourly tidy (here: Run's first round).
func TestHubExpiredLease(t *testing.T) {
	f := newFixture(t)
	f.mustSubscribe("short", f.topic("world", newsdesk.FormatAtom), websubtest.Options{LeaseSeconds: 60})
	if s := f.subscriptions(); len(s) != 1 || s[0].LeaseSeconds != newsdesk.MinLeaseSeconds {
		t.Fatalf("stored %+v, want the lease raised to the minimum, an hour", s)
	}
	f.clock.Advance(time.Hour)
	f.publish("a")
	if rs := f.deliver(); len(rs) != 0 {
		t.Errorf("Deliver() after the lease ended = %+v, want nothing", rs)
	}
	if n, err := f.st.DeleteExpiredHubSubscriptions(f.clock.Now()); n != 1 || err != nil {
		t.Errorf("DeleteExpiredHubSubscriptions = %d, %v; want 1", n, err)
	}
}

// TestHubOneDeliveryPerVersion: renders that change nothing, and pokes,
// deliver nothing more.
func TestHubOneDeliveryPerVersion(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatAtom)
	f.mustSubscribe("once", topic, websubtest.Options{})
	f.checkDelivered("once", topic, "a")
	for range 3 {
		f.clock.Advance(time.Minute)
		if err := f.pub.Rebuild(); err != nil {
			t.Fatal(err)
		}
		f.hub.Poke()
		if rs := f.deliver(); len(rs) != 0 {
			t.Fatalf("Deliver() after a render that changed nothing = %+v", rs)
		}
	}
	f.publish("b") // another section's change
	if rs := f.deliver(); len(rs) != 0 {
		t.Errorf("Deliver() after another section changed = %+v", rs)
	}
}

// TestHubPrivateSection: a private section is subscribed to only with its
// token; without it, it looks like a section that does not exist.
func TestHubPrivateSection(t *testing.T) {
	f := newFixture(t)
	bare := f.base + "sections/secret.atom"
	for _, topic := range []string{bare, bare + "?token=wrong"} {
		code, body := f.subscribe("p", topic, websubtest.Options{})
		if code != http.StatusNotFound || !strings.Contains(body, `section "secret": not found`) {
			t.Errorf("subscribe %s = %d %q, want 404 as for a section that does not exist", topic, code, body)
		}
	}
	topic := f.topic("secret", newsdesk.FormatAtom)
	f.mustSubscribe("p", topic, websubtest.Options{})
	f.checkDelivered("p", topic, "b")
}

// TestHubRequestChecks: malformed or unacceptable requests are refused
// with a status and a reason, and nothing is queued.
func TestHubRequestChecks(t *testing.T) {
	f := newFixture(t)
	topic := f.topic("world", newsdesk.FormatAtom)
	cb := f.sub.Callback("x")
	form := func(kv ...string) string {
		v := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.callback": {cb}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const formType = "application/x-www-form-urlencoded"
	tests := []struct {
		name, ctype, body string
		code              int
		reason            string
	}{
		{"json body", "application/json", `{}`, 415, "x-www-form-urlencoded"},
		{"too large", formType, form("hub.extra", strings.Repeat("x", 70<<10)), 413, "over"},
		{"no mode", formType, form("hub.mode", ""), 400, "hub.mode is missing"},
		{"publish", formType, form("hub.mode", "publish"), 400, "only publishes its own sections"},
		{"other mode", formType, form("hub.mode", "denied"), 400, "subscribe or unsubscribe"},
		{"no topic", formType, form("hub.topic", ""), 400, "hub.topic is missing"},
		{"foreign topic", formType, form("hub.topic", "https://elsewhere.example/sections/world.atom"), 400, "not a feed or page of this server"},
		{"unknown section", formType, form("hub.topic", f.base+"sections/nope.atom"), 404, `"nope"`},
		{"index page", formType, form("hub.topic", f.base), 400, "not a feed or page"},
		{"no callback", formType, form("hub.callback", ""), 400, "hub.callback is missing"},
		{"relative callback", formType, form("hub.callback", "/cb"), 400, "absolute http or https"},
		{"ftp callback", formType, form("hub.callback", "ftp://example.com/cb"), 400, "absolute http or https"},
		{"userinfo", formType, form("hub.callback", "http://u:p@example.com/cb"), 400, "user name or password"},
		{"fragment", formType, form("hub.callback", "http://example.com/cb#x"), 400, "fragment"},
		{"secret too long", formType, form("hub.secret", strings.Repeat("s", 200)), 400, "under 200"},
		{"bad lease", formType, form("hub.lease_seconds", "soon"), 400, "hub.lease_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.post(tt.ctype, tt.body)
			if code != tt.code || !strings.Contains(body, tt.reason) {
				t.Errorf("POST = %d %q, want %d saying %q", code, body, tt.code, tt.reason)
			}
		})
	}
	resp, err := http.Get(f.hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /websub = %d Allow %q, want 405 Allow POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if n := f.hub.VerifyPending(t.Context()); n != 0 {
		t.Errorf("%d refused requests were queued for verification", n)
	}

	// A lease outside the bounds is kept within them.
	for _, tt := range []struct{ asked, want int }{{1, newsdesk.MinLeaseSeconds}, {1 << 30, newsdesk.MaxLeaseSeconds}} {
		f.mustSubscribe("lease", topic, websubtest.Options{LeaseSeconds: tt.asked})
		if s := f.subscriptions(); len(s) != 1 || s[0].LeaseSeconds != tt.want {
			t.Errorf("lease asked %d: stored %+v, want %d", tt.asked, s, tt.want)
		}
	}
}

// TestHubCaps: subscriptions per section and per callback host are capped
// (a renewal always passes), and so are the requests waiting for
// verification (503 with Retry-After).
func TestHubCaps(t *testing.T) {
	f := newFixture(t, func(h *websub.Hub) { h.MaxPerSection = 2; h.MaxPerHost = 3 })
	world := f.topic("world", newsdesk.FormatAtom)
	f.mustSubscribe("one", world, websubtest.Options{})
	f.mustSubscribe("two", world, websubtest.Options{})
	if code, body := f.subscribe("three", world, websubtest.Options{}); code != http.StatusForbidden || !strings.Contains(body, `section "world" has 2 subscriptions`) {
		t.Errorf("third subscription to world = %d %q, want 403 naming the cap", code, body)
	}
	f.mustSubscribe("one", world, websubtest.Options{LeaseSeconds: 7200}) // a renewal
	f.mustSubscribe("three", f.topic("secret", newsdesk.FormatRSS), websubtest.Options{})
	if code, body := f.subscribe("four", f.topic("secret", newsdesk.FormatJSON), websubtest.Options{}); code != http.StatusForbidden || !strings.Contains(body, "callback host 127.0.0.1 has 3") {
		t.Errorf("fourth subscription from one host = %d %q, want 403 naming the host cap", code, body)
	}
	if n := len(f.subscriptions()); n != 3 {
		t.Errorf("%d stored, want 3", n)
	}

	// One request waits; the next is turned away until it is verified.
	f = newFixture(t, func(h *websub.Hub) { h.MaxPending = 1 })
	secret := f.topic("secret", newsdesk.FormatAtom)
	code, _, _ := f.sub.Subscribe(t.Context(), f.hub.URL, secret, "one", websubtest.Options{})
	code2, body, _ := f.sub.Subscribe(t.Context(), f.hub.URL, secret, "two", websubtest.Options{})
	if code != http.StatusAccepted || code2 != http.StatusServiceUnavailable || !strings.Contains(body, "waiting for verification") {
		t.Errorf("two requests with room for one = %d, %d %q; want 202 then 503", code, code2, body)
	}
	resp, err := http.PostForm(f.hub.URL, url.Values{"hub.mode": {"subscribe"}, "hub.topic": {secret}, "hub.callback": {f.sub.Callback("x")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("full queue: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestHubRefusesPrivateCallbacks: without AllowPrivate the hub does not
// connect to a loopback callback; the verification fails and says why.
func TestHubRefusesPrivateCallbacks(t *testing.T) {
	f := newFixture(t, func(h *websub.Hub) { h.AllowPrivate = false })
	code, _, _ := f.sub.Subscribe(t.Context(), f.hub.URL, f.topic("world", newsdesk.FormatAtom), "local", websubtest.Options{})
	if code != http.StatusAccepted {
		t.Fatalf("subscribe = %d, want 202", code)
	}
	f.hub.VerifyPending(t.Context())
	if n := len(f.sub.Verified); n != 0 {
		t.Errorf("the loopback callback was asked %d times, want 0", n)
	}
	if s := f.subscriptions(); len(s) != 0 {
		t.Errorf("stored %+v", s)
	}
	if log := f.logged(); !strings.Contains(log, "a loopback address") || !strings.Contains(log, "websub_allow_private") {
		t.Errorf("log does not name the refusal and its fix:\n%s", log)
	}
}

// TestHubTokenChanged: when a private section's token changes, a
// subscription made with the old one ends at the next change instead of
// receiving the section.
func TestHubTokenChanged(t *testing.T) {
	f := newFixture(t)
	f.mustSubscribe("old", f.topic("secret", newsdesk.FormatAtom), websubtest.Options{})
	f.cfg.Sections[1].Token = "tok-rotated-456"
	f.pub.SetConfig(f.cfg)
	f.publish("b")
	if rs := f.deliver(); len(rs) != 1 || !rs[0].Gone {
		t.Fatalf("Deliver() = %+v, want the subscription ended", rs)
	}
	if n := len(f.sub.Deliveries); n != 0 {
		t.Errorf("the old token's subscriber got %d deliveries, want 0", n)
	}
	if s := f.subscriptions(); len(s) != 0 {
		t.Errorf("stored %+v, want none", s)
	}
}

// TestHubFollowsNoRedirect: a callback that redirects is answered with its
// status and the redirect's target is never asked (it could be an address
// the guard would refuse, reached through a public one).
func TestHubFollowsNoRedirect(t *testing.T) {
	f := newFixture(t)
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	if err := f.st.SaveHubSubscription(newsdesk.HubSubscription{Topic: f.topic("world", newsdesk.FormatAtom), Section: "world",
		Format: newsdesk.FormatAtom, Callback: redirect.URL + "/cb", LeaseSeconds: 3600, Created: f.clock.Now(),
		Expires: f.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if rs := f.deliver(); len(rs) != 1 || rs[0].Result != "http 307" {
		t.Fatalf("Deliver() = %+v, want http 307", rs)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect's target was asked %d times, want 0", n)
	}
}
