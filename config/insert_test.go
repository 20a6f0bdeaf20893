package config

import (
	"os"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

func TestMakeID(t *testing.T) {
	long := strings.Repeat("Breaking news from everywhere ", 5)
	tests := []struct {
		name, title, url string
		taken            []string
		want             string
	}{
		{"plain", "The Moscow Times", "https://www.themoscowtimes.com/rss/news", nil, "the-moscow-times"},
		{"punctuation", "Ars Technica - All content", "https://feeds.arstechnica.com/arstechnica/index", nil, "ars-technica-all-content"},
		{"apostrophe", "John’s musings", "https://blogs.example.com/~john/posts.rss", nil, "johns-musings"},
		{"accents", "Süddeutsche Zeitung", "https://rss.sueddeutsche.de/rss/Topthemen", nil, "suddeutsche-zeitung"},
		{"french", "Le Monde.fr - Actualités", "https://www.lemonde.fr/rss/une.xml", nil, "le-monde-fr-actualites"},
		{"dotted capital I", "İstanbul Haber", "https://istanbul.example/rss", nil, "istanbul-haber"},
		{"cyrillic", "Медуза", "https://meduza.io/rss/all", nil, "meduza"},
		{"cyrillic words", "Новая газета Европа", "https://novayagazeta.eu/feed/rss", nil, "novaya-gazeta-evropa"},
		{"hard sign", "Коммерсантъ", "https://www.kommersant.ru/RSS/news.xml", nil, "kommersant"},
		{"ukrainian", "Українська правда", "https://www.pravda.com.ua/rss/", nil, "ukrayinska-pravda"},
		{"serbian", "Политика: Ђоковић", "https://www.politika.rs/rss", nil, "politika-djokovic"},
		{"emoji around", "🚀 Space.com 🚀", "https://www.space.com/feeds/all", nil, "space-com"},
		{"emoji only: url", "📰📰", "https://www.Example.com/Feeds/All.xml", nil, "example-com-feeds-all-xml"},
		{"no transliteration: url", "日本経済新聞", "https://assets.wor.jp/rss/rdf/nikkei/news.rdf", nil, "assets-wor-jp-rss-rdf-nikkei-news-rdf"},
		{"no title: url", "", "http://feeds.kottke.org/main", nil, "feeds-kottke-org-main"},
		{"non-ASCII host", "★", "https://例え.jp/", nil, "jp"},
		{"nothing usable", "★", "https://例え.テスト/", nil, "feed"},
		{"long title cut at a word", long, "https://x.example/", nil, "breaking-news-from-everywhere-breaking-news-from-everywhere"},
		{"long word cut hard", strings.Repeat("a", 100), "https://x.example/", nil, strings.Repeat("a", 64)},
		{"taken", "Hacker News", "https://news.ycombinator.com/rss", []string{"hacker-news"}, "hacker-news-2"},
		{"taken twice", "Hacker News", "https://news.ycombinator.com/rss", []string{"hacker-news", "hacker-news-2"}, "hacker-news-3"},
		{"taken, long", strings.Repeat("b", 64), "https://x.example/", []string{strings.Repeat("b", 64)}, strings.Repeat("b", 62) + "-2"},
		{"taken url fallback", "日本", "https://nhk.jp/", []string{"nhk-jp"}, "nhk-jp-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taken := map[string]bool{}
			for _, id := range tt.taken {
				taken[id] = true
			}
			got := MakeID(tt.title, tt.url, taken)
			if got != tt.want {
				t.Errorf("MakeID(%q, %q) = %q, want %q", tt.title, tt.url, got, tt.want)
			}
			if !newsdesk.ValidID(got) {
				t.Errorf("MakeID(%q, %q) = %q, which is not %s", tt.title, tt.url, got, newsdesk.IDRule)
			}
		})
	}
}

func FuzzMakeID(f *testing.F) {
	f.Add("Медуза", "https://meduza.io/rss/all")
	f.Add("🚀", "feed://x")
	f.Add(strings.Repeat("ab-", 40), "https://x.example/"+strings.Repeat("c", 80))
	f.Fuzz(func(t *testing.T, title, u string) {
		taken := map[string]bool{}
		for range 3 {
			id := MakeID(title, u, taken)
			if !newsdesk.ValidID(id) || taken[id] {
				t.Fatalf("MakeID(%q, %q) = %q: not a valid new id", title, u, id)
			}
			taken[id] = true
		}
	})
}

func TestFindSources(t *testing.T) {
	srcs := []newsdesk.Source{{ID: "new", Title: "New", URL: "https://new.example/feed", Tags: []string{"tech"}}}
	added := "# Imported from x.opml by newsdesk import.\n- id: new\n  title: New\n  url: https://new.example/feed\n  tags: [tech]\n"
	indent := func(n int, s string) string {
		lines := strings.SplitAfter(s, "\n")
		for i, l := range lines {
			if l != "" {
				lines[i] = strings.Repeat(" ", n) + l
			}
		}
		return strings.Join(lines, "")
	}
	tests := []struct {
		name, config, want string
	}{
		{
			"indented list, comments, blank line",
			"sources:\n  - id: a   # first\n    url: https://a.example/\n\n# Sections publish sources.\nsections:\n  - id: s\n    sources: [a]\n",
			"sources:\n  - id: a   # first\n    url: https://a.example/\n" + indent(2, added) + "\n# Sections publish sources.\nsections:\n  - id: s\n    sources: [a]\n",
		},
		{
			"list at the key's indentation",
			"sources:\n- id: a\n  url: https://a.example/\n# Sections follow.\nsections:\n- id: s\n  sources: [a]\n",
			"sources:\n- id: a\n  url: https://a.example/\n" + added + "# Sections follow.\nsections:\n- id: s\n  sources: [a]\n",
		},
		{
			"commented-out item stays with the list",
			"sources:\n  - id: a\n    url: https://a.example/\n  # - id: b\n  #   url: https://b.example/\n\nsections:\n  - id: s\n    sources: [a]\n",
			"sources:\n  - id: a\n    url: https://a.example/\n  # - id: b\n  #   url: https://b.example/\n" + indent(2, added) + "\nsections:\n  - id: s\n    sources: [a]\n",
		},
		{
			"wide indentation",
			"sources:\n    -   id: a\n        url: https://a.example/\nsections:\n    -   id: s\n        sources: [a]\n",
			"sources:\n    -   id: a\n        url: https://a.example/\n    # Imported from x.opml by newsdesk import.\n    -   id: new\n        title: New\n        url: https://new.example/feed\n        tags: [tech]\nsections:\n    -   id: s\n        sources: [a]\n",
		},
		{
			"sources last, no final newline",
			"sections:\n  - id: s\n    tags: [tech]\nsources:\n  - id: a\n    url: https://a.example/\n    tags: [tech]",
			"sections:\n  - id: s\n    tags: [tech]\nsources:\n  - id: a\n    url: https://a.example/\n    tags: [tech]\n" + indent(2, added),
		},
		{
			"empty sources key with a comment",
			"sources:   # none yet\n  # add feeds here\nsections:\n  - id: s\n    tags: [tech]\n",
			"sources:   # none yet\n  # add feeds here\n" + indent(2, added) + "sections:\n  - id: s\n    tags: [tech]\n",
		},
		{
			"no sources key",
			"# Sections first.\nsections:\n  - id: s\n    tags: [tech]\n",
			"# Sections first.\nsections:\n  - id: s\n    tags: [tech]\n\nsources:\n" + indent(2, added),
		},
		{
			"CRLF line endings",
			"sources:\r\n  - id: a\r\n    url: https://a.example/\r\nsections:\r\n  - id: s\r\n    sources: [a]\r\n",
			"sources:\r\n  - id: a\r\n    url: https://a.example/\r\n" + strings.ReplaceAll(indent(2, added), "\n", "\r\n") + "sections:\r\n  - id: s\r\n    sources: [a]\r\n",
		},
		{
			"block scalar in the last item",
			"sources:\n  - id: a\n    url: https://a.example/\n    title: |\n      A title\n      # not a comment\n\nsections:\n  - id: s\n    sources: [a]\n",
			"sources:\n  - id: a\n    url: https://a.example/\n    title: |\n      A title\n      # not a comment\n" + indent(2, added) + "\nsections:\n  - id: s\n    sources: [a]\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := insert(t, tt.config, srcs)
			if got != tt.want {
				t.Errorf("import into\n%s\ngot\n%s\nwant\n%s", tt.config, got, tt.want)
			}
			if _, err := Parse("feeds.yaml", t.TempDir(), []byte(got)); err != nil {
				t.Errorf("the result is not a valid config: %v", err)
			}
		})
	}
}

func TestFindSourcesRefuses(t *testing.T) {
	for _, config := range []string{
		"sources: []\nsections: []\n",
		"sources: [{id: a, url: 'https://a.example/'}]\n",
		"{sections: [], storage: {path: x.db}}\n",
		"sources: a-string\n",
	} {
		if l, err := FindSources([]byte(config)); err == nil {
			t.Errorf("FindSources(%q) = %+v, want an error", config, l)
		}
	}
}

func TestYAMLScalar(t *testing.T) {
	for s, want := range map[string]string{
		"The Moscow Times":             "The Moscow Times",
		"research!rsc":                 "research!rsc",
		"https://x.example/a?b=1&c=#d": "https://x.example/a?b=1&c=#d",
		"Медуза":                       "Медуза",
		"null":                         `"null"`,
		"yes":                          "yes", // a string in YAML 1.2, and to yaml.v3
		"true":                         `"true"`,
		"1843":                         `"1843"`,
		"Hacker News: jobs":            `"Hacker News: jobs"`,
		"C# in depth":                  "C# in depth",
		"Tips #1":                      `"Tips #1"`,
		"- dash":                       `"- dash"`,
		"[bracket]":                    `"[bracket]"`,
		"*star":                        `"*star"`,
		`say "hi" \o/`:                 `"say \"hi\" \\o/"`,
		"@home":                        `"@home"`,
		"'quoted'":                     `"'quoted'"`,
	} {
		if got := yamlScalar(s); got != want {
			t.Errorf("yamlScalar(%q) = %s, want %s", s, got, want)
		}
	}
}

// insert is what `newsdesk import` does to the text of feeds.yaml.
func insert(t testing.TB, config string, srcs []newsdesk.Source) string {
	t.Helper()
	l, err := FindSources([]byte(config))
	if err != nil {
		t.Fatalf("FindSources() error = %v", err)
	}
	return string(l.Insert([]byte(config), l.Render(srcs, "x.opml")))
}

// FuzzInsert checks that whatever a valid feeds.yaml looks like, inserting
// a source only adds whole lines at the end of its sources list (or a new
// one) and keeps it valid, with the new source in it.
func FuzzInsert(f *testing.F) {
	shipped, err := os.ReadFile("../feeds.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(shipped))
	f.Add("sections:\n- id: s\n  tags: [tech]\n# end\n")
	f.Add("sources:\n- id: a\n  url: http://a.example/\n  title: |+\n    x\n\n# c\nsections:\n")
	f.Add("sources:\r\n  - id: a\r\n    url: https://a.example/\r\nsections:\r\n  - id: s\r\n    sources: [a]\r\n")
	f.Fuzz(func(t *testing.T, config string) {
		if _, err := Parse("feeds.yaml", ".", []byte(config)); err != nil {
			return
		}
		l, err := FindSources([]byte(config))
		if err != nil {
			return
		}
		taken := map[string]bool{}
		for _, s := range l.Sources {
			taken[s.ID] = true
		}
		src := newsdesk.Source{ID: MakeID("Fuzz", "https://fuzz.example/feed", taken), Title: "Fuzz", URL: "https://fuzz.example/feed", Tags: []string{"tech"}}
		text := l.Render([]newsdesk.Source{src}, "x.opml")
		got := string(l.Insert([]byte(config), text))
		at := l.insertAt
		if at > 0 && lineBreak([]byte(config[:at])) == "" || at < len(config) && at > 0 && config[at-1] == '\r' && config[at] == '\n' {
			t.Fatalf("FindSources(%q) inserts at byte %d, not at the start of a line", config, at)
		}
		cfg, err := Parse("feeds.yaml", ".", []byte(got))
		if err != nil {
			t.Fatalf("inserting into\n%s\ngives an invalid config: %v\n%s", config, err, got)
		}
		if _, ok := cfg.Source(src.ID); !ok {
			t.Fatalf("inserting into\n%s\ngives\n%s\nwithout source %q", config, got, src.ID)
		}
	})
}
