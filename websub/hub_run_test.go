package websub_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/websubtest"
	"github.com/newsdesk/newsdesk/websub"
)

// subscribeRunning subscribes while Run verifies, and waits until the
// subscription is stored.
func (f *fixture) subscribeRunning(name, topic string) {
	f.t.Helper()
	code, body, err := f.sub.Subscribe(context.Background(), f.hub.URL, topic, name, websubtest.Options{})
	if err != nil || code != http.StatusAccepted {
		f.t.Fatalf("subscribe %s = %d %q, %v; want 202", name, code, body, err)
	}
	<-f.sub.Verified
	select {
	case outcome := <-f.verified:
		if outcome != "verified" {
			f.t.Fatalf("verification of %s %s", name, outcome)
		}
	case <-time.After(10 * time.Second):
		f.t.Fatal("Run did not verify in 10 s")
	}
}

// runningFixture is a fixture whose hub's Run works until the test ends,
// reporting each verification's outcome on f.verified.
func runningFixture(t *testing.T, configure ...func(*websub.Hub)) *fixture {
	verified := make(chan string, 10)
	f := newFixture(t, append(configure, func(h *websub.Hub) {
		h.CountVerification = func(_, outcome string) { verified <- outcome }
	})...)
	f.verified = verified
	f.run()
	return f
}

// TestHubRunDeliversWithinSeconds: with Run working, a subscriber receives
// a section's update within 2 s of the commit and render (a generous
// bound; it takes milliseconds).
func TestHubRunDeliversWithinSeconds(t *testing.T) {
	f := runningFixture(t)
	topic := f.topic("world", newsdesk.FormatAtom)
	f.subscribeRunning("reader", topic)
	start := time.Now()
	f.publish("a")
	f.hub.Poke()
	select {
	case d := <-f.sub.Deliveries:
		if !strings.Contains(string(d.Body), "Story 2 from a") {
			t.Errorf("delivered without the new item:\n%s", d.Body)
		}
		t.Logf("delivered %s after the commit", time.Since(start))
	case <-time.After(2 * time.Second):
		t.Fatal("no delivery within 2 s of the commit")
	}
}

// TestHubSlowCallbackDoesNotDelayOthers: while one callback holds its
// delivery, another is delivered.
func TestHubSlowCallbackDoesNotDelayOthers(t *testing.T) {
	f := runningFixture(t)
	topic := f.topic("world", newsdesk.FormatAtom)
	f.subscribeRunning("slow", topic)
	f.subscribeRunning("fast", topic)
	release := f.sub.Hold("slow")
	f.publish("a")
	f.hub.Poke()
	if d := f.received(); d.Callback != "fast" {
		t.Fatalf("first delivery to %q, want fast while slow is held", d.Callback)
	}
	release()
	if d := f.received(); d.Callback != "slow" {
		t.Errorf("second delivery to %q, want slow once released", d.Callback)
	}
}

// TestHubRunRetriesOnTheClock: Run retries a failed delivery when the
// clock reaches its retry and the hub is poked.
func TestHubRunRetriesOnTheClock(t *testing.T) {
	outcomes := make(chan string, 10)
	f := runningFixture(t, func(h *websub.Hub) {
		h.CountDelivery = func(o string) { outcomes <- o }
	})
	f.subscribeRunning("flaky", f.topic("world", newsdesk.FormatAtom))
	f.sub.Answer("flaky", http.StatusServiceUnavailable)
	f.publish("a")
	f.hub.Poke()
	f.received()
	if o := <-outcomes; o != "retry" {
		t.Fatalf("first delivery %s, want retry", o)
	}
	f.sub.Answer("flaky", 0)
	f.clock.Advance(websub.DefaultBackoff[0])
	f.hub.Poke()
	f.received()
	if o := <-outcomes; o != "sent" {
		t.Errorf("retry %s, want sent", o)
	}
}

// TestHubPing: Ping posts hub.mode=publish with the topic as hub.url and
// hub.topic to each hub, and names a failing hub in its error.
func TestHubPing(t *testing.T) {
	var (
		mu    sync.Mutex
		forms []url.Values
	)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such topic", http.StatusBadRequest)
	}))
	defer bad.Close()
	h := &websub.Hub{}
	topic := "http://desk.example/sections/world.atom"
	err := h.Ping(t.Context(), []string{ok.URL, bad.URL}, []string{topic})
	if err == nil || !strings.Contains(err.Error(), bad.URL) || !strings.Contains(err.Error(), "no such topic") {
		t.Errorf("Ping() error = %v, want one naming %s and its answer", err, bad.URL)
	}
	if len(forms) != 1 || forms[0].Get("hub.mode") != "publish" || forms[0].Get("hub.url") != topic || forms[0].Get("hub.topic") != topic {
		t.Errorf("the hub got %v, want one publish of %s", forms, topic)
	}
}
