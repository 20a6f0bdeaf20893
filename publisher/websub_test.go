package publisher

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// TestWebSubTopic resolves hub.topic URLs the way the site serves them: a
// page without its extension is the HTML page, scheme and host compare
// without case, and a private section without its token is as unknown as
// one that does not exist.
func TestWebSubTopic(t *testing.T) {
	_, s, _ := newTestServer(t)
	tok := "?token=" + url.QueryEscape(testToken)
	tests := []struct {
		topic, section, format string
		err                    error
	}{
		{"http://localhost:8080/sections/all.atom", "all", newsdesk.FormatAtom, nil},
		{"http://localhost:8080/sections/all.rss", "all", newsdesk.FormatRSS, nil},
		{"http://localhost:8080/sections/all.json", "all", newsdesk.FormatJSON, nil},
		{"http://localhost:8080/sections/all.html", "all", newsdesk.FormatHTML, nil},
		{"http://localhost:8080/sections/all", "all", newsdesk.FormatHTML, nil},
		{"HTTP://LocalHost:8080/sections/all.atom", "all", newsdesk.FormatAtom, nil},
		{"http://localhost:8080/sections/secret.atom" + tok, "secret", newsdesk.FormatAtom, nil},
		{"http://localhost:8080/sections/secret.atom", "", "", newsdesk.ErrNotFound},
		{"http://localhost:8080/sections/secret.atom?token=guess", "", "", newsdesk.ErrNotFound},
		{"http://localhost:8080/sections/nope.atom", "", "", newsdesk.ErrNotFound},
		{"http://localhost:8080/", "", "", ErrForeignTopic},
		{"http://localhost:8080/sections.opml", "", "", ErrForeignTopic},
		{"http://localhost:8080/sections/../x.atom", "", "", ErrForeignTopic},
		{"https://localhost:8080/sections/all.atom", "", "", ErrForeignTopic},
		{"http://localhost:9090/sections/all.atom", "", "", ErrForeignTopic},
		{"http://u@localhost:8080/sections/all.atom", "", "", ErrForeignTopic},
		{"sections/all.atom", "", "", ErrForeignTopic},
	}
	for _, tt := range tests {
		section, format, err := s.WebSubTopic(tt.topic)
		if section != tt.section || format != tt.format || !errors.Is(err, tt.err) {
			t.Errorf("WebSubTopic(%q) = %q, %q, %v; want %q, %q, %v", tt.topic, section, format, err, tt.section, tt.format, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), "guess") {
			t.Errorf("WebSubTopic(%q) error %q repeats the token given", tt.topic, err)
		}
	}
}

// TestSectionFile returns the body served and the version's date.
func TestSectionFile(t *testing.T) {
	ts, s, _ := newTestServer(t)
	body, ctype, changed, err := s.SectionFile("all", newsdesk.FormatAtom)
	if err != nil {
		t.Fatal(err)
	}
	resp, served := do(t, "GET", ts.URL+"/sections/all.atom", nil)
	if string(body) != string(served) || ctype != resp.Header.Get("Content-Type") {
		t.Errorf("SectionFile body/type differ from what is served (%q vs %q)", ctype, resp.Header.Get("Content-Type"))
	}
	if v := s.SectionVersions(); !changed.Equal(v["all"]) || changed.IsZero() || len(v) != len(s.cfg.Load().Sections) {
		t.Errorf("SectionFile ChangedAt %v, SectionVersions %v; want the same, for every section", changed, v)
	}
	if _, _, _, err := s.SectionFile("nope", "atom"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("SectionFile(nope) error = %v, want ErrNotFound", err)
	}
}
