package fetcher

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// The subscriber's discovery, as the websub.rocks subscriber tests 100-102
// check it: the hub and self a feed advertises, recorded in the state of
// each 200.

const atomWithHub = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:x</id><updated>2026-11-26T10:00:00Z</updated>
<link rel="hub" href="https://hub.example/"/><link rel="self" href="/feed.atom"/><link rel="alternate" href="https://example.org/"/>
<entry><title>E</title><id>urn:e</id><updated>2026-11-26T10:00:00Z</updated><link href="https://example.org/e"/><link rel="hub" href="https://entry-hub.example/"/></entry>
</feed>`

const rssWithHub = `<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title><link>https://example.org/</link>
<atom:link rel="self" href="https://example.org/feed.rss" type="application/rss+xml"/>
<atom:link rel="hub" href="https://hub1.example/"/><atom:link rel="hub" href="https://hub2.example/"/>
<item><title>I</title><link>https://example.org/i</link><guid>https://example.org/i</guid><atom:link rel="hub" href="https://item-hub.example/"/></item>
</channel></rss>`

const jsonWithHub = `{"version":"https://jsonfeed.org/version/1.1","title":"T","feed_url":"https://example.org/feed.json",
"hubs":[{"type":"rssCloud","url":"https://cloud.example/"},{"type":"WebSub","url":"https://hub.example/websub"}],
"items":[{"id":"1","url":"https://example.org/1","content_text":"x"}]}`

func TestSubscriber100_DiscoversHubFromLinkHeader(t *testing.T) {
	o := newOrigin(t)
	// The header wins over the body's links.
	o.on("/feed", serve([]byte(atomWithHub), header("Content-Type", "application/atom+xml",
		"Link", `<https://header-hub.example/>; rel="hub"`, "Link", `</canonical>; rel="self"`)))
	resp, err := o.fetch("/feed", newsdesk.FetchState{})
	if err != nil {
		t.Fatal(err)
	}
	want := newsdesk.WebSubLinks{Hubs: []string{"https://header-hub.example/"}, Self: o.url("/canonical")}
	if !reflect.DeepEqual(resp.WebSub, want) {
		t.Errorf("Fetch().WebSub = %+v, want %+v", resp.WebSub, want)
	}
}

func TestSubscriber101_DiscoversHubFromDocument(t *testing.T) {
	tests := []struct {
		name, body, ctype string
		want              func(o *origin) newsdesk.WebSubLinks
	}{
		{"atom", atomWithHub, "application/atom+xml", func(o *origin) newsdesk.WebSubLinks {
			return newsdesk.WebSubLinks{Hubs: []string{"https://hub.example/"}, Self: o.url("/feed.atom")}
		}},
		{"rss", rssWithHub, "application/rss+xml", func(*origin) newsdesk.WebSubLinks {
			return newsdesk.WebSubLinks{Hubs: []string{"https://hub1.example/", "https://hub2.example/"}, Self: "https://example.org/feed.rss"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.on("/feed", serve([]byte(tt.body), header("Content-Type", tt.ctype, "Link", `<https://example.org/p2>; rel="next"`)))
			resp, err := o.fetch("/feed", newsdesk.FetchState{})
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(o); !reflect.DeepEqual(resp.WebSub, want) {
				t.Errorf("Fetch().WebSub = %+v, want %+v (feed-level links only)", resp.WebSub, want)
			}
		})
	}
}

func TestSubscriber102_DiscoversHubFromJSONFeed(t *testing.T) {
	o := newOrigin(t)
	o.on("/feed.json", serve([]byte(jsonWithHub), header("Content-Type", "application/feed+json")))
	resp, err := o.fetch("/feed.json", newsdesk.FetchState{})
	if err != nil {
		t.Fatal(err)
	}
	want := newsdesk.WebSubLinks{Hubs: []string{"https://hub.example/websub"}, Self: "https://example.org/feed.json"}
	if !reflect.DeepEqual(resp.WebSub, want) {
		t.Errorf("Fetch().WebSub = %+v, want %+v", resp.WebSub, want)
	}
}

// TestDiscoveryKeptBy304AndFailure: the links are those of the last 200;
// a 304 or a failure keeps them, a 200 without them clears them.
func TestDiscoveryKeptBy304AndFailure(t *testing.T) {
	o := newOrigin(t)
	var answer http.HandlerFunc
	o.on("/feed", func(w http.ResponseWriter, r *http.Request) { answer(w, r) })
	src := newsdesk.Source{ID: "a", URL: o.url("/feed"), Interval: 10 * time.Minute}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	pass := func(step string, h http.HandlerFunc) newsdesk.FetchState {
		t.Helper()
		answer = h
		if _, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil); err != nil {
			t.Fatal(err)
		}
		st, err := db.State("a")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		clock = clock.Add(time.Hour)
		return st
	}
	want := newsdesk.WebSubLinks{Hubs: []string{"https://hub.example/"}, Self: o.url("/feed.atom")}
	if st := pass("200", serve([]byte(atomWithHub), header("ETag", `"v1"`))); !reflect.DeepEqual(st.WebSub, want) {
		t.Fatalf("after a 200: WebSub = %+v, want %+v", st.WebSub, want)
	}
	if st := pass("304", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotModified) }); st.Result != newsdesk.ResultNotModified || !reflect.DeepEqual(st.WebSub, want) {
		t.Errorf("after a 304: result %q, WebSub = %+v, want not_modified and %+v", st.Result, st.WebSub, want)
	}
	if st := pass("500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) }); st.Result != newsdesk.ResultError || !reflect.DeepEqual(st.WebSub, want) {
		t.Errorf("after a failure: result %q, WebSub = %+v, want error and %+v", st.Result, st.WebSub, want)
	}
	if st := pass("200 without", serve([]byte(feedXML), nil)); !st.WebSub.IsZero() {
		t.Errorf("after a 200 without links: WebSub = %+v, want none", st.WebSub)
	}
}

// FuzzBodyLinks checks that no body makes the discovery scan panic, and
// that what it finds are absolute http(s) URLs.
func FuzzBodyLinks(f *testing.F) {
	f.Add([]byte(atomWithHub))
	f.Add([]byte(rssWithHub))
	f.Add([]byte(jsonWithHub))
	base, _ := url.Parse("https://example.org/feed")
	f.Fuzz(func(t *testing.T, body []byte) {
		l := bodyLinks(body, base)
		for _, u := range append(l.Hubs, l.Self) {
			if u != "" && !newsdesk.IsHTTPURL(u) {
				t.Errorf("bodyLinks(%q) gave %q, not an http(s) URL", body, u)
			}
		}
	})
}
