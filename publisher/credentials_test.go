package publisher

import (
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestNoSecretInTheExport renders a section of a source whose URL holds
// userinfo and which sends Basic auth and a header: no file of the site
// (the feeds in every format, the HTML pages, sections.opml) shows a
// secret, and atom:source's self link is the redacted URL.
func TestNoSecretInTheExport(t *testing.T) {
	const password, key = "pw-Zq7-secret", "key-Wx9-secret"
	src := newsdesk.Source{ID: "wire", URL: "https://newsdesk:" + password + "@wire.example/feed.xml",
		Auth:    &newsdesk.BasicAuth{Username: "newsdesk", Password: password},
		Headers: []newsdesk.Header{{Name: "X-Api-Key", Value: key}}}
	st := &fakeStore{
		items: []newsdesk.Item{
			{SourceID: "wire", ID: "w1", Title: "No link of its own", Published: date("2025-11-20T10:00:00Z")},
			{SourceID: "wire", ID: "w2", Title: "Linked", Link: "https://wire.example/2", Published: date("2025-11-20T11:00:00Z")},
		},
		states: []newsdesk.FetchState{{SourceID: "wire", URL: src.URL, FeedTitle: "Wire",
			MovedTo: "https://newsdesk:" + password + "@wire.example/new.xml"}},
	}
	cfg := Config{
		BaseURL:  "http://localhost:8080/",
		Sources:  []newsdesk.Source{src},
		Sections: []newsdesk.Section{{ID: "wire", Sources: []string{"wire"}}},
		Now:      func() time.Time { return date("2025-11-22T00:00:00Z") },
	}
	site, err := Render(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range allPaths(site) {
		b := string(body(t, site, path))
		for _, secret := range src.Secrets() {
			if strings.Contains(b, secret) {
				t.Errorf("%s shows the secret %q", path, secret)
			}
		}
	}
	redacted := "https://newsdesk:xxxxx@wire.example/feed.xml"
	doc := parseAtom(t, body(t, site, "sections/wire.atom"))
	for _, e := range doc.Entries {
		var self string
		for _, l := range e.Source.Links {
			if l.Rel == "self" {
				self = l.Href
			}
		}
		if self != redacted {
			t.Errorf("entry %q: atom:source self link %q, want %q", e.Title, self, redacted)
		}
	}
	for _, path := range []string{"sections/wire.json", "sections/wire.rss"} {
		if !strings.Contains(string(body(t, site, path)), redacted) {
			t.Errorf("%s lacks the source's redacted URL %s", path, redacted)
		}
	}
}
