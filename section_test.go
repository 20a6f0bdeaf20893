package newsdesk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

func TestRuleMatch(t *testing.T) {
	item := &newsdesk.Item{
		Title:      "Kremlin's Envoy Meets Choe Son Hui in Pyongyang",
		Summary:    `<p>Talks on <b>sanctions</b> &amp; trade.</p><img src="kim-jong-un.jpg">`,
		Content:    "<p>Москва и Пхеньян подписали соглашение.</p>",
		Categories: []string{"Politics"},
		Authors:    []newsdesk.Person{{Name: "Jane Doe"}},
		Link:       "https://example.com/opinion/123",
	}
	tests := []struct {
		rule string
		want bool
	}{
		{"Kremlin", true},      // a word before an apostrophe
		{"kremlin", true},      // any case
		{"Kreml", false},       // whole words only
		{"Choe Son Hui", true}, // a phrase
		{"choe   son hui", true},
		{"Son Hu", false},
		{"sanctions", true},       // in the summary's text
		{"kim jong un", false},    // not in an attribute of the summary's HTML
		{"Пхеньян", true},         // Cyrillic whole word
		{"Пхень", false},          // Cyrillic part of a word
		{"москва", true},          // Cyrillic, any case
		{"/(?i)SANCTION/", true},  // regexp
		{"/^Kremlin's/", true},    // anchored regexp on the title
		{"/^Talks/", true},        // ^ is the start of a field: the summary's text starts with its first word
		{"title:Pyongyang", true}, // scoped
		{"title:sanctions", false},
		{"category:politics", true},
		{"category:Kremlin", false},
		{"author:Jane Doe", true},
		{"link:/opinion/", true},
		{"link:/news/", false},
		{"Politics", true}, // categories are searched by default
	}
	for _, tt := range tests {
		r, err := newsdesk.ParseRule(tt.rule)
		if err != nil {
			t.Fatalf("ParseRule(%q): %v", tt.rule, err)
		}
		if got := r.Match(item); got != tt.want {
			t.Errorf("rule %q Match = %v, want %v", tt.rule, got, tt.want)
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	tests := []struct{ rule, want string }{
		{"/[/", "bad regular expression /[/: missing closing ]"},
		{"", "empty rule"},
		{"title:", `empty rule "title:"`},
		{"   ", "empty rule"},
	}
	for _, tt := range tests {
		_, err := newsdesk.ParseRule(tt.rule)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRule(%q) error = %v, want it to contain %q", tt.rule, err, tt.want)
		}
	}
}

func TestSectionAdmit(t *testing.T) {
	mustRules := func(texts ...string) []newsdesk.Rule {
		var out []newsdesk.Rule
		for _, s := range texts {
			r, err := newsdesk.ParseRule(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	sec := newsdesk.Section{Include: mustRules("North Korea", "Pyongyang"), Exclude: mustRules("Sponsored")}
	tests := []struct {
		title  string
		want   bool
		reason string
	}{
		{"Pyongyang Sends Shells", true, "include Pyongyang"},
		{"North Korea Tests Missile", true, "include North Korea"},
		{"Sponsored: Visit Pyongyang", false, "exclude Sponsored"},
		{"Ruble Falls", false, "no include rule matched"},
	}
	for _, tt := range tests {
		ok, reason := sec.Admit(&newsdesk.Item{Title: tt.title})
		if ok != tt.want || reason != tt.reason {
			t.Errorf("Admit(%q) = %v, %q; want %v, %q", tt.title, ok, reason, tt.want, tt.reason)
		}
	}
	all := newsdesk.Section{}
	if ok, reason := all.Admit(&newsdesk.Item{Title: "anything"}); !ok || reason != "" {
		t.Errorf("section without rules Admit = %v, %q; want true, \"\"", ok, reason)
	}
}

func TestFetchStateSummary(t *testing.T) {
	tests := []struct {
		st   newsdesk.FetchState
		want string
	}{
		{newsdesk.FetchState{}, "never fetched"},
		{newsdesk.FetchState{Result: newsdesk.ResultOK, New: 3}, "ok 3 new"},
		{newsdesk.FetchState{Result: newsdesk.ResultOK, New: 0, Updated: 2}, "ok 0 new, 2 updated"},
		{newsdesk.FetchState{Result: newsdesk.ResultNotModified}, "not modified"},
		{newsdesk.FetchState{Result: newsdesk.ResultError, Error: "HTTP 404"}, "error: HTTP 404"},
	}
	for _, tt := range tests {
		if got := tt.st.Summary(); got != tt.want {
			t.Errorf("Summary() = %q, want %q", got, tt.want)
		}
	}
}

func TestFetchStateHistoryAndStale(t *testing.T) {
	var st newsdesk.FetchState
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		st.Record(newsdesk.Attempt{At: start.Add(time.Duration(i) * time.Minute), Result: newsdesk.ResultError})
	}
	if len(st.History) != newsdesk.HistoryLen || !st.History[0].At.Equal(start.Add(52*time.Minute)) {
		t.Errorf("history has %d entries from %v, want the last %d", len(st.History), st.History[0].At, newsdesk.HistoryLen)
	}
	now := start.Add(100 * time.Minute)
	tests := []struct {
		name        string
		lastSuccess time.Time
		interval    time.Duration
		want        bool
	}{
		{"recent success", now.Add(-20 * time.Minute), 10 * time.Minute, false},
		{"no success for 3 intervals", now.Add(-31 * time.Minute), 10 * time.Minute, true},
		{"never succeeded, failing for 48 minutes", time.Time{}, 10 * time.Minute, true},
		{"never succeeded, long interval", time.Time{}, time.Hour, false},
	}
	for _, tt := range tests {
		s := st
		s.LastSuccess = tt.lastSuccess
		if got := s.Stale(tt.interval, now); got != tt.want {
			t.Errorf("%s: Stale = %v, want %v", tt.name, got, tt.want)
		}
	}
	if (newsdesk.FetchState{}).Stale(time.Minute, now) {
		t.Error("a source never fetched is not stale")
	}
}
