package websub_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/websubtest"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/websub"
)

// The secrets the tests use; the fixture checks none is ever logged.
const (
	sectionToken = "tok-private-123"
	testSecret   = "s3cret-of-the-subscriber"
)

// clock is the tests' injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a newsdesk site on loopback: a bbolt store, a publisher
// serving two sections (world, public; secret, private) and the hub at
// BASE/websub, with a subscriber peer.
type fixture struct {
	t     *testing.T
	db    store.Store
	st    store.WebSubStore
	pub   *publisher.Server
	cfg   publisher.Config
	hub   *websub.Hub
	sub   *websubtest.Subscriber
	clock *clock
	base  string
	items map[string][]newsdesk.Item // published, by source
	// verified reports verifications Run made (runningFixture).
	verified chan string

	logMu sync.Mutex
	log   bytes.Buffer
}

func newFixture(t *testing.T, configure ...func(*websub.Hub)) *fixture {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newFixtureOn(t, db, configure...)
}

// newFixtureOn is newFixture on a store of the test's.
func newFixtureOn(t *testing.T, db store.Store, configure ...func(*websub.Hub)) *fixture {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	f := &fixture{t: t, db: db, st: db, sub: websubtest.NewSubscriber(t),
		clock: &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)},
		base:  "http://" + srv.Listener.Addr().String() + "/", items: map[string][]newsdesk.Item{}}
	cfg := publisher.Config{BaseURL: f.base, Title: "Test desk", Now: f.clock.Now,
		Sources: []newsdesk.Source{
			{ID: "a", URL: "https://a.example/feed", Interval: time.Hour},
			{ID: "b", URL: "https://b.example/feed", Interval: time.Hour},
		},
		Sections: []newsdesk.Section{
			{ID: "world", Title: "World", Sources: []string{"a"}},
			{ID: "secret", Title: "Secret", Sources: []string{"b"}, Token: sectionToken},
		},
	}
	f.cfg = cfg
	f.pub = publisher.NewServer(db, cfg, nil)
	f.publish("a")
	f.publish("b")
	f.hub = &websub.Hub{Store: f.st, Site: f.pub, URL: f.base + "websub", Holder: "test", Now: f.clock.Now,
		AllowPrivate: true, Log: slog.New(slog.NewTextHandler(lockedWriter{f}, nil))}
	for _, c := range configure {
		c(f.hub)
	}
	mux := http.NewServeMux()
	mux.Handle("/websub", f.hub)
	mux.Handle("/", f.pub)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		f.logMu.Lock()
		defer f.logMu.Unlock()
		for _, secret := range []string{sectionToken, testSecret} {
			if strings.Contains(f.log.String(), secret) {
				t.Errorf("the hub logged a secret %q:\n%s", secret, f.log.String())
			}
		}
	})
	return f
}

type lockedWriter struct{ f *fixture }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.f.logMu.Lock()
	defer w.f.logMu.Unlock()
	return w.f.log.Write(p)
}

// run starts the hub's worker until the test ends.
func (f *fixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.hub.Run(ctx)
	}()
	f.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// publish stores a new item of source and renders the site again, a
// second later on the clock.
func (f *fixture) publish(source string) {
	f.t.Helper()
	f.clock.Advance(time.Second)
	now := f.clock.Now()
	n := len(f.items[source]) + 1
	f.items[source] = append(f.items[source], newsdesk.Item{SourceID: source, ID: fmt.Sprintf("%s-%d", source, n),
		Title: fmt.Sprintf("Story %d from %s", n, source), Link: fmt.Sprintf("https://%s.example/%d", source, n),
		Published: now, Updated: now, FirstSeen: now})
	st := newsdesk.FetchState{SourceID: source, URL: "https://" + source + ".example/feed", Result: newsdesk.ResultOK,
		LastFetch: now, LastSuccess: now, FeedTitle: "Source " + source}
	if _, err := f.db.SaveFetch(st, f.items[source], newsdesk.Retention{}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.pub.Rebuild(); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) topic(section, format string) string {
	u := f.base + "sections/" + section + "." + format
	if section == "secret" {
		u += "?token=" + sectionToken
	}
	return u
}

// subscribe asks the hub for a subscription of the callback named name
// and, when it is accepted, has it verified; it returns the hub's answer.
func (f *fixture) subscribe(name, topic string, o websubtest.Options) (int, string) {
	f.t.Helper()
	code, body, err := f.sub.Subscribe(context.Background(), f.hub.URL, topic, name, o)
	if err != nil {
		f.t.Fatal(err)
	}
	if code == http.StatusAccepted {
		if n := f.hub.VerifyPending(context.Background()); n != 1 {
			f.t.Fatalf("VerifyPending() = %d, want 1", n)
		}
		if v := <-f.sub.Verified; !v.Confirmed {
			f.t.Fatalf("the subscriber did not confirm %+v", v)
		}
	}
	return code, body
}

// mustSubscribe subscribes and fails the test unless it is accepted.
func (f *fixture) mustSubscribe(name, topic string, o websubtest.Options) {
	f.t.Helper()
	if code, body := f.subscribe(name, topic, o); code != http.StatusAccepted {
		f.t.Fatalf("subscribe %s = %d %q, want 202", name, code, body)
	}
}

// deliver runs the deliveries due and returns their outcomes.
func (f *fixture) deliver() []store.DeliveryResult {
	f.t.Helper()
	rs, err := f.hub.Deliver(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return rs
}

// received returns the next delivery the subscriber got.
func (f *fixture) received() websubtest.Delivery {
	f.t.Helper()
	select {
	case d := <-f.sub.Deliveries:
		return d
	case <-time.After(10 * time.Second):
		f.t.Fatal("no delivery reached the subscriber in 10 s")
	}
	return websubtest.Delivery{}
}

// subscriptions returns what the store holds.
func (f *fixture) subscriptions() []newsdesk.HubSubscription {
	f.t.Helper()
	var out []newsdesk.HubSubscription
	if err := f.st.HubSubscriptions(func(s newsdesk.HubSubscription) bool { out = append(out, s); return true }); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// get fetches a URL of the site.
func (f *fixture) get(u string) ([]byte, string) {
	f.t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		f.t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	return body, resp.Header.Get("Content-Type")
}

// post sends a raw form to the hub.
func (f *fixture) post(contentType, body string) (int, string) {
	f.t.Helper()
	resp, err := http.Post(f.hub.URL, contentType, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// logged returns what the hub logged so far.
func (f *fixture) logged() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.log.String()
}
