package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// TestPlan: which OPML feeds become sources, with which ids and tags, and
// the notes for the ones skipped or merged.
func TestPlan(t *testing.T) {
	yml := "sources:\n  - id: moscow-times\n    url: https://www.TheMoscowTimes.com/rss/news\n  - id: hacker-news\n    url: https://hn.example/other\nsections:\n  - id: s\n    sources: [moscow-times]\n"
	feeds := []Candidate{
		{Title: "The Moscow Times", URL: "https://www.themoscowtimes.com/rss/news/", Line: 3},
		{Title: "The Moscow Times", URL: "https://www.themoscowtimes.com/rss/news", Folders: []string{"Again"}, Line: 4},
		{Title: "Hacker News", URL: "https://news.ycombinator.com/rss", Folders: []string{"Tech"}, Line: 5},
		{Title: "Hacker News", URL: "https://news.ycombinator.com/rss/", Folders: []string{"Must Read"}, Line: 6},
		{Title: "Hacker News", URL: "https://hn.example/mirror", Folders: []string{"Tech"}, Line: 7},
		{Title: "Birdsite", URL: "|~/bin/fetch", Line: 8},
		{Title: "Jobs", URL: "https://news.ycombinator.com/jobs", Type: "HTML+XPath", Line: 9},
		{Title: "null", URL: "https://null.example/", Folders: []string{"2024", "📰"}, Line: 10},
		{Title: "Wire", URL: "https://newsdesk:hunter2@wire.example/rss", Line: 11},
		{Title: "Wire", URL: "https://other:hunter3@wire.example/rss", Line: 12},
		{Title: "Token", URL: "https://hunter4token@token.example/rss", Line: 13},
	}
	l, err := FindSources([]byte(yml))
	if err != nil {
		t.Fatalf("FindSources() error = %v", err)
	}
	plan := l.Plan(feeds)
	got := string(l.Insert([]byte(yml), l.Render(plan.Add, "x.opml")))
	want := yml[:strings.Index(yml, "sections:")] +
		"  # Imported from x.opml by newsdesk import.\n" +
		"  - id: hacker-news-2\n    title: Hacker News\n    url: https://news.ycombinator.com/rss\n    tags: [tech, must-read]\n" +
		"  - id: hacker-news-3\n    title: Hacker News\n    url: https://hn.example/mirror\n    tags: [tech]\n" +
		"  - id: \"null\"\n    title: \"null\"\n    url: https://null.example/\n    tags: [\"2024\"]\n" +
		"  - id: wire\n    title: Wire\n    url: https://wire.example/rss\n" +
		"  - id: token\n    title: Token\n    url: https://token.example/rss\n" +
		yml[strings.Index(yml, "sections:"):]
	if got != want {
		t.Errorf("import got\n%s\nwant\n%s", got, want)
	}
	if _, err := Parse("feeds.yaml", t.TempDir(), []byte(got)); err != nil {
		t.Errorf("the result is not a valid config: %v", err)
	}
	if s, want := plan.Summary("feeds.yaml"), "5 sources (3 skipped: already present 1, not http(s) 1, not a feed 1) into feeds.yaml"; s != want {
		// The Moscow Times is listed twice but counts once.
		t.Errorf("Summary() = %q, want %q", s, want)
	}
	wantNotes := []string{
		`3: skip "The Moscow Times" (https://www.themoscowtimes.com/rss/news/): already in feeds.yaml as source "moscow-times"`,
		`4: skip "The Moscow Times" (https://www.themoscowtimes.com/rss/news): already in feeds.yaml as source "moscow-times"`,
		`6: "Hacker News" (https://news.ycombinator.com/rss/) is also at line 5: one source with the tags of both folders`,
		`8: skip "Birdsite": xmlUrl "|~/bin/fetch" must start with http:// or https://`,
		`9: skip "Jobs" (https://news.ycombinator.com/jobs): type "HTML+XPath" is a web page scraped by FreshRSS, not a feed`,
		`11: "Wire" (https://newsdesk:xxxxx@wire.example/rss): the credentials in its URL are not copied into feeds.yaml: source "wire" is added without them (and fails until it has them): add auth: {username: newsdesk, password_env: WIRE_PASSWORD} to it and set WIRE_PASSWORD in the environment of newsdesk (for systemd: EnvironmentFile=, see deploy/newsdesk.service)`,
		`12: "Wire" (https://other:xxxxx@wire.example/rss) is also at line 11: one source with the tags of both folders`,
		`13: "Token" (https://xxxxx@token.example/rss): the credentials in its URL are not copied into feeds.yaml: source "token" is added without them (and fails until it has them): add auth: {username: ..., password_env: TOKEN_PASSWORD} to it and set TOKEN_PASSWORD in the environment of newsdesk (for systemd: EnvironmentFile=, see deploy/newsdesk.service)`,
	}
	if out := got + strings.Join(plan.Notes, "\n"); strings.Contains(out, "hunter") {
		t.Errorf("the import shows a URL's password:\n%s", out)
	}
	if !slices.Equal(plan.Notes, wantNotes) {
		t.Errorf("notes =\n%s\nwant\n%s", strings.Join(plan.Notes, "\n"), strings.Join(wantNotes, "\n"))
	}
}

// TestUnpublishedNote: the note agrees in number with the sources it is
// about, whether one was added, or one of several is left out.
func TestUnpublishedNote(t *testing.T) {
	cfg := &Config{Sections: []newsdesk.Section{{ID: "s", Sources: []string{"a", "b"}}}}
	tests := []struct {
		name  string
		added []newsdesk.Source
		want  string
	}{
		{"all published", []newsdesk.Source{{ID: "a"}}, ""},
		{"one added", []newsdesk.Source{{ID: "c", Tags: []string{"x"}}}, "it is in no section yet: add it to a section's sources or tags to publish it (its tags: x)\n"},
		{"one of several", []newsdesk.Source{{ID: "a"}, {ID: "b"}, {ID: "c", Tags: []string{"x"}}}, "1 of them is in no section yet: add it to a section's sources or tags to publish it (its tags: x)\n"},
		{"two of three", []newsdesk.Source{{ID: "a"}, {ID: "c"}, {ID: "d"}}, "2 of them are in no section yet: add them to a section's sources or tags to publish them\n"},
		{"all of several", []newsdesk.Source{{ID: "c", Tags: []string{"y"}}, {ID: "d", Tags: []string{"x"}}}, "they are in no section yet: add them to a section's sources or tags to publish them (their tags: x, y)\n"},
	}
	for _, tt := range tests {
		if got := cfg.UnpublishedNote(tt.added); got != tt.want {
			t.Errorf("%s: UnpublishedNote() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
