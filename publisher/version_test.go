package publisher

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestVersionHash checks what a section's version hashes: every change to
// what its files show gives a new hash, and nothing else does (not the
// clock, not the version's own time, not another section).
func TestVersionHash(t *testing.T) {
	hashes := func(change func(*fakeStore, *Config)) map[string]string {
		t.Helper()
		st, cfg := fixture(t)
		if change != nil {
			change(st, &cfg)
		}
		site, err := Render(st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for id, v := range site.versions {
			out[id] = v.Hash
		}
		return out
	}
	base := hashes(nil)
	same := []struct {
		name   string
		change func(*fakeStore, *Config)
	}{
		{"a later clock", func(_ *fakeStore, c *Config) { c.Now = func() time.Time { return date("2025-11-22T05:00:00Z") } }},
		{"a stored version of other content", func(s *fakeStore, _ *Config) {
			s.versions = map[string]newsdesk.SectionVersion{"all": {Hash: "old", ChangedAt: date("2025-11-01T00:00:00Z")}}
		}},
		{"an error of a source of a section with items", func(s *fakeStore, _ *Config) {
			s.states = append(s.states, newsdesk.FetchState{SourceID: "blog", Result: newsdesk.ResultError, Error: "timeout"})
		}},
	}
	for _, tt := range same {
		if got := hashes(tt.change); got["all"] != base["all"] {
			t.Errorf("%s: hash of all changed", tt.name)
		}
	}
	changed := []struct {
		name    string
		section string
		change  func(*fakeStore, *Config)
	}{
		{"section title", "all", func(_ *fakeStore, c *Config) { c.Sections[0].Title = "Everything" }},
		{"section description", "all", func(_ *fakeStore, c *Config) { c.Sections[0].Description = "All." }},
		{"a rule", "all", func(_ *fakeStore, c *Config) { c.Sections[0].Exclude = nil }},
		{"an item's text", "all", func(s *fakeStore, _ *Config) { s.items[1].Summary = "We talk about feeds, again." }},
		{"the order of items", "all", func(s *fakeStore, _ *Config) { s.items[1].Published = date("2025-11-20T11:00:00Z") }},
		{"an item's date", "all", func(s *fakeStore, _ *Config) { s.items[0].Updated = date("2025-11-20T13:00:00Z") }},
		{"a source's title", "all", func(_ *fakeStore, c *Config) { c.Sources[1].Title = "Radio" }},
		{"a source feed's updated", "all", func(s *fakeStore, _ *Config) { s.states[0].FeedUpdated = date("2025-11-21T07:00:00Z") }},
		{"a source's interval (RSS ttl)", "all", func(_ *fakeStore, c *Config) { c.Sources[0].Interval = time.Hour }},
		{"the base URL", "all", func(_ *fakeStore, c *Config) { c.BaseURL = "https://news.example/" }},
		{"the site title", "all", func(_ *fakeStore, c *Config) { c.Title = "Desk" }},
		{"an empty section's source error", "empty", func(s *fakeStore, _ *Config) { s.states[2].Error = "connection refused" }},
		{"the status page link", "empty", func(_ *fakeStore, c *Config) { c.StatusPath = "status" }},
		{"the token", "secret", func(_ *fakeStore, c *Config) { c.Sections[2].Token = "another" }},
	}
	for _, tt := range changed {
		got := hashes(tt.change)
		if got[tt.section] == base[tt.section] {
			t.Errorf("%s: hash of %s unchanged", tt.name, tt.section)
		}
	}
}

// TestVersionsDateFiles checks that a section's files, all four, carry its
// version's time as Last-Modified, that Server.Versions reports it, that a
// rebuild of unchanged content keeps it, and that a change moves it
// forward so an If-Modified-Since of the old date gets the new body.
func TestVersionsDateFiles(t *testing.T) {
	now := date("2025-11-22T00:00:00Z")
	s, st, _ := clockedServer(t, &now)
	ts := httptest.NewServer(s)
	defer ts.Close()
	v1 := s.versions()["all"]
	if v1.Hash == "" || !v1.ChangedAt.Equal(now) {
		t.Fatalf("versions()[all] = %+v, want a hash changed at %s", v1, now)
	}
	for _, ext := range sectionExts {
		if f, _ := s.site.Load().fileAt("sections/all" + ext); !f.LastModified.Equal(v1.ChangedAt) {
			t.Errorf("all%s: LastModified %s, want the version's %s", ext, f.LastModified, v1.ChangedAt)
		}
	}

	now = now.Add(time.Hour)
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	if v := s.versions()["all"]; v != v1 {
		t.Errorf("rebuilt without a change: version %+v, want %+v", v, v1)
	}

	now = now.Add(time.Hour)
	st.mu.Lock()
	st.items[0].Title = "AT&T calls off the merger"
	st.mu.Unlock()
	if err := s.RebuildSections("all"); err != nil {
		t.Fatal(err)
	}
	v2 := s.versions()["all"]
	if v2.Hash == v1.Hash || !v2.ChangedAt.Equal(now) {
		t.Errorf("after a change: version %+v, want a new hash at %s", v2, now)
	}
	resp, _ := do(t, "GET", ts.URL+"/sections/all.atom", http.Header{"If-Modified-Since": {v1.ChangedAt.Format(http.TimeFormat)}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Last-Modified") != now.Format(http.TimeFormat) {
		t.Errorf("If-Modified-Since the old version: %d, Last-Modified %q; want 200 and %q", resp.StatusCode, resp.Header.Get("Last-Modified"), now.Format(http.TimeFormat))
	}
}

// TestOutdated checks when a fetch that brought no new items must re-render
// the source's sections: when it changes how a section shows the source,
// and only then.
func TestOutdated(t *testing.T) {
	st, cfg := fixture(t)
	s := NewServer(st, cfg, nil)
	if !s.Outdated(newsdesk.FetchState{SourceID: "acme"}) {
		t.Errorf("Outdated() before the first Rebuild = false, want true")
	}
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	acme := st.states[0]
	down := st.states[2]
	tests := []struct {
		name string
		st   newsdesk.FetchState
		want bool
	}{
		{"nothing changed", acme, false},
		{"validators and times changed", func() newsdesk.FetchState {
			s := acme
			s.ETag, s.LastFetch, s.Result, s.History = `"x"`, date("2025-11-22T01:00:00Z"), newsdesk.ResultNotModified, []newsdesk.Attempt{{}}
			return s
		}(), false},
		{"feed title", func() newsdesk.FetchState { s := acme; s.FeedTitle = "Acme"; return s }(), false}, // feeds.yaml names it
		{"feed home page", func() newsdesk.FetchState { s := acme; s.FeedLink = "https://www.acme.example/"; return s }(), true},
		{"feed updated", func() newsdesk.FetchState { s := acme; s.FeedUpdated = date("2025-11-22T00:00:00Z"); return s }(), true},
		{"feed authors", func() newsdesk.FetchState { s := acme; s.FeedAuthors = nil; return s }(), true},
		{"same error again", down, false},
		{"another error", func() newsdesk.FetchState { s := down; s.Error = "connection refused"; return s }(), true},
		{"recovered", func() newsdesk.FetchState { s := down; s.Result, s.Error = newsdesk.ResultOK, ""; return s }(), true},
		{"not configured", newsdesk.FetchState{SourceID: "gone", FeedLink: "https://gone.example/"}, false},
	}
	for _, tt := range tests {
		if got := s.Outdated(tt.st); got != tt.want {
			t.Errorf("%s: Outdated() = %v, want %v", tt.name, got, tt.want)
		}
	}

	// Once a section with the source is rendered again, but not all of
	// them, the site still shows the old source somewhere.
	st.mu.Lock()
	st.states[0].FeedUpdated = date("2025-11-22T00:00:00Z")
	st.mu.Unlock()
	changed := st.states[0]
	if err := s.RebuildSections("all"); err != nil {
		t.Fatal(err)
	}
	if !s.Outdated(changed) {
		t.Errorf("after rendering all but not secret (both carry acme): Outdated() = false, want true")
	}
	if err := s.RebuildSections("all", "secret"); err != nil {
		t.Fatal(err)
	}
	if s.Outdated(changed) {
		t.Errorf("after rendering every section of acme: Outdated() = true, want false")
	}
}

// TestRenderBehindReadsAgain: a render whose reads another instance
// overtook (it committed and recorded its render of the newer content
// while this one was rendering) does not record its older content, which
// would move the version back and then forward again with a new date and
// ETag for every instance: it reads again and serves the newer version,
// the other instance's, to the nanosecond.
func TestRenderBehindReadsAgain(t *testing.T) {
	now := date("2025-11-22T00:00:00Z")
	s, st, cfg := clockedServer(t, &now)
	var other *Site
	st.onRecord(func() {
		now = now.Add(time.Minute)
		st.add(newsdesk.Item{SourceID: "acme", ID: "late", Title: "Late news", Link: "https://acme.example/late", Published: date("2025-11-21T10:00:00Z")})
		var err error
		if other, err = Render(st, cfg); err != nil {
			t.Error(err)
		}
	})
	now = now.Add(time.Minute)
	if err := s.RebuildSections("all"); err != nil {
		t.Fatal(err)
	}
	if other == nil {
		t.Fatal("the other instance never rendered: the test shows nothing")
	}
	got, want := s.versions()["all"], other.versions["all"]
	if got != want || st.versions["all"] != want {
		t.Errorf("after a render behind another: served version %+v, stored %+v; want the other instance's %+v kept", got, st.versions["all"], want)
	}
	if f, _ := s.site.Load().fileAt("sections/all.rss"); !strings.Contains(string(f.Body), "Late news") {
		t.Errorf("all.rss does not show the item the other instance committed:\n%s", f.Body)
	}
}

// TestRenderAlwaysBehindPublishes: while other instances overtake every
// read, a render still publishes what it read on its last attempt
// (recorded without a position) instead of failing.
func TestRenderAlwaysBehindPublishes(t *testing.T) {
	st, cfg := fixture(t)
	s := NewServer(st, cfg, nil)
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	attempts := 0
	var overtake func()
	overtake = func() {
		attempts++
		st.add(newsdesk.Item{SourceID: "acme", ID: fmt.Sprint("n", attempts), Title: fmt.Sprint("News ", attempts), Link: fmt.Sprint("https://acme.example/n", attempts), Published: date("2025-11-21T10:00:00Z")})
		if _, err := Render(st, cfg); err != nil {
			t.Error(err)
		}
		st.onRecord(overtake)
	}
	st.onRecord(overtake)
	if err := s.RebuildSections("all"); err != nil {
		t.Fatalf("RebuildSections while always overtaken: %v, want what it read published", err)
	}
	st.onRecord(nil)
	if attempts != renderAttempts {
		t.Errorf("rendered %d times, want %d", attempts, renderAttempts)
	}
	if got := s.versions()["all"]; got != st.versions["all"] {
		t.Errorf("served version %+v, stored %+v: want the one recorded", got, st.versions["all"])
	}
}

// clockedServer is a Server of the fixture, rendered once, whose clock
// reads *now.
func clockedServer(t *testing.T, now *time.Time) (*Server, *fakeStore, Config) {
	t.Helper()
	st, cfg := fixture(t)
	cfg.Now = func() time.Time { return *now }
	s := NewServer(st, cfg, nil)
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	return s, st, cfg
}
