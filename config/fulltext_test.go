package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// useSelectorCheck stands in for cmd's fetcher.CheckSelector (config does
// not import the fetcher; the testscript check_full_text runs the real one):
// a selector with "((" in it is refused. No config test runs in parallel,
// so setting the package's hook is safe.
func useSelectorCheck(t *testing.T) {
	t.Helper()
	prev := SelectorCheck
	SelectorCheck = func(s string) error {
		if strings.Contains(s, "((") {
			return fmt.Errorf("invalid CSS selector %q: unexpected (", s)
		}
		return nil
	}
	t.Cleanup(func() { SelectorCheck = prev })
}

func TestConfigFullText(t *testing.T) {
	useSelectorCheck(t)
	const sections = "sections:\n  - id: s\n    tags: [t]\n"
	tests := []struct {
		name string
		yaml string
		want map[string]newsdesk.FullText // by source id
	}{
		{
			name: "off unless turned on",
			yaml: "sources:\n  - id: a\n    url: https://a.example/\n    tags: [t]\n" + sections,
			want: map[string]newsdesk.FullText{"a": {Attribution: true}},
		},
		{
			name: "true and false",
			yaml: `sources:
  - {id: on, url: "https://a.example/", tags: [t], full_text: true}
  - {id: off, url: "https://b.example/", tags: [t], full_text: false}
` + sections,
			want: map[string]newsdesk.FullText{
				"on":  {Enabled: true, Attribution: true},
				"off": {Attribution: true},
			},
		},
		{
			name: "the issue's mapping",
			yaml: `sources:
  - id: moscow-times
    url: https://www.themoscowtimes.com/rss/news
    tags: [t]
    full_text: {selector: "div.article__content", remove: [".social-share", ".related"], per_pass: 20, attribution: true}
` + sections,
			want: map[string]newsdesk.FullText{"moscow-times": {Enabled: true, Selector: "div.article__content", Remove: []string{".social-share", ".related"}, PerPass: 20, Attribution: true}},
		},
		{
			name: "every key, block style, one remove as a single value",
			yaml: `sources:
  - id: intranet
    url: http://news.corp.example/rss
    tags: [t]
    full_text:
      selector: main article, .story-body
      remove: .share
      per_pass: 200
      attribution: false
      allow_private: true
  - id: empty-mapping
    url: https://e.example/
    tags: [t]
    full_text: {}
` + sections,
			want: map[string]newsdesk.FullText{
				"intranet":      {Enabled: true, Selector: "main article, .story-body", Remove: []string{".share"}, PerPass: 200, AllowPrivate: true},
				"empty-mapping": {Enabled: true, Attribution: true},
			},
		},
		{
			name: "defaults apply to every source, which may turn it off or change keys",
			yaml: `defaults:
  full_text: {remove: [".share"], per_pass: 5}
sources:
  - {id: inherits, url: "https://a.example/", tags: [t]}
  - {id: off, url: "https://b.example/", tags: [t], full_text: false}
  - {id: "on", url: "https://c.example/", tags: [t], full_text: true}
  - {id: adds, url: "https://d.example/", tags: [t], full_text: {selector: article}}
  - {id: replaces, url: "https://e.example/", tags: [t], full_text: {remove: [nav, footer], attribution: false}}
` + sections,
			want: map[string]newsdesk.FullText{
				"inherits": {Enabled: true, Remove: []string{".share"}, PerPass: 5, Attribution: true},
				"off":      {Remove: []string{".share"}, PerPass: 5, Attribution: true},
				"on":       {Enabled: true, Remove: []string{".share"}, PerPass: 5, Attribution: true},
				"adds":     {Enabled: true, Selector: "article", Remove: []string{".share"}, PerPass: 5, Attribution: true},
				"replaces": {Enabled: true, Remove: []string{"nav", "footer"}, PerPass: 5},
			},
		},
		{
			name: "defaults false leaves a source's own mapping on",
			yaml: `defaults:
  full_text: false
sources:
  - {id: a, url: "https://a.example/", tags: [t], full_text: {per_pass: 1}}
` + sections,
			want: map[string]newsdesk.FullText{"a": {Enabled: true, PerPass: 1, Attribution: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse() error:\n%v", err)
			}
			if len(cfg.Sources) != len(tt.want) {
				t.Fatalf("Parse() sources = %q, want %d", cfg.SourceIDs(), len(tt.want))
			}
			for _, src := range cfg.Sources {
				if want, ok := tt.want[src.ID]; !ok || !reflect.DeepEqual(src.FullText, want) {
					t.Errorf("source %q FullText = %+v, want %+v", src.ID, src.FullText, want)
				}
			}
		})
	}
}

func TestFullTextPages(t *testing.T) {
	for _, tt := range []struct {
		perPass, want int
	}{{0, newsdesk.DefaultArticlesPerPass}, {1, 1}, {200, 200}} {
		if got := (newsdesk.FullText{PerPass: tt.perPass}).Pages(); got != tt.want {
			t.Errorf("FullText{PerPass: %d}.Pages() = %d, want %d", tt.perPass, got, tt.want)
		}
	}
}

func TestConfigFullTextProblems(t *testing.T) {
	useSelectorCheck(t)
	tests := []struct {
		name string
		yaml string // source "mt"'s full_text from line 4, column 5
		want []string
	}{
		{
			name: "unknown and repeated keys",
			yaml: "    full_text:\n      selecter: article\n      per_pass: 3\n      per_pass: 4\n",
			want: []string{
				`feeds.yaml:5:7: source "mt": full_text: unknown key "selecter" (did you mean "selector"?) (known keys: selector, remove, per_pass, attribution, allow_private)`,
				`feeds.yaml:7:7: source "mt": full_text: key "per_pass" appears twice: keep one`,
			},
		},
		{
			name: "neither a bool nor a mapping",
			yaml: "    full_text: yes please\n",
			want: []string{`feeds.yaml:4:16: source "mt": full_text should be true, false or a mapping of keys (selector, remove, per_pass, attribution, allow_private), not "yes please"`},
		},
		{
			name: "a list",
			yaml: "    full_text: [article]\n",
			want: []string{`feeds.yaml:4:16: source "mt": full_text should be true, false or a mapping of keys (selector, remove, per_pass, attribution, allow_private), not a list`},
		},
		{
			name: "empty",
			yaml: "    full_text:\n",
			want: []string{`feeds.yaml:4:15: source "mt": full_text should be true, false or a mapping of keys (selector, remove, per_pass, attribution, allow_private), not ""`},
		},
		{
			name: "per_pass out of range or not a number",
			yaml: "    full_text: {per_pass: 0}\n  - {id: b, url: 'https://b.example/', full_text: {per_pass: 201}}\n" +
				"  - {id: c, url: 'https://c.example/', full_text: {per_pass: many}}\n  - {id: d, url: 'https://d.example/', full_text: {per_pass: [1]}}\n",
			want: []string{
				`feeds.yaml:4:27: source "mt": full_text.per_pass 0: must be a whole number from 1 to 200 (article pages fetched per pass; the default is 20)`,
				`feeds.yaml:5:62: source "b": full_text.per_pass 201: must be a whole number from 1 to 200 (article pages fetched per pass; the default is 20)`,
				`feeds.yaml:6:62: source "c": full_text.per_pass "many": must be a whole number from 1 to 200 (article pages fetched per pass; the default is 20)`,
				`feeds.yaml:7:62: source "d": full_text.per_pass a list: must be a whole number from 1 to 200 (article pages fetched per pass; the default is 20)`,
			},
		},
		{
			name: "remove not a list of selectors",
			yaml: "    full_text:\n      remove: {share: true}\n  - {id: b, url: 'https://b.example/', full_text: {remove: [[nav]]}}\n",
			want: []string{
				`feeds.yaml:5:15: source "mt": full_text.remove should be a list (lines starting with -), not a mapping`,
				`feeds.yaml:6:61: source "b": full_text.remove: expected a name, not a list`,
			},
		},
		{
			name: "invalid and empty selectors",
			yaml: "    full_text:\n      selector: div((\n      remove: [nav, 'p((', '  ']\n",
			want: []string{
				`feeds.yaml:5:17: source "mt": full_text.selector: invalid CSS selector "div((": unexpected (: write a CSS selector, e.g. div.article__content or .story .share`,
				`feeds.yaml:6:21: source "mt": full_text.remove: invalid CSS selector "p((": unexpected (: write a CSS selector, e.g. div.article__content or .story .share`,
				`feeds.yaml:6:28: source "mt": full_text.remove is empty: give a CSS selector, e.g. div.article__content`,
			},
		},
		{
			name: "attribution and allow_private are true or false",
			yaml: "    full_text: {attribution: no, allow_private: 1}\n",
			want: []string{
				`feeds.yaml:4:30: source "mt": full_text.attribution "no": write true or false`,
				`feeds.yaml:4:49: source "mt": full_text.allow_private "1": write true or false`,
			},
		},
		{
			name: "under defaults",
			yaml: "defaults:\n  full_text: {per_pass: 500, colour: red}\n",
			want: []string{
				`feeds.yaml:2:25: defaults.full_text.per_pass 500: must be a whole number from 1 to 200 (article pages fetched per pass; the default is 20)`,
				`feeds.yaml:2:30: defaults.full_text: unknown key "colour" (known keys: selector, remove, per_pass, attribution, allow_private)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "sources:\n  - id: mt\n    url: https://mt.example/rss\n" + tt.yaml + "sections:\n  - id: s\n    sources: [mt]\n"
			if strings.HasPrefix(tt.yaml, "defaults:") {
				yaml = tt.yaml + "sources:\n  - id: mt\n    url: https://mt.example/rss\nsections:\n  - id: s\n    sources: [mt]\n"
			}
			_, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(yaml))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse() error = %v, want Problems", err)
			}
			if got := ps.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestConfigFullTextWithoutCheck: with no SelectorCheck (config used on
// its own) a selector is taken as written; an empty one is still refused.
func TestConfigFullTextWithoutCheck(t *testing.T) {
	if SelectorCheck != nil {
		t.Fatal("SelectorCheck is set outside cmd")
	}
	cfg, err := Parse("feeds.yaml", "/etc/newsdesk", []byte("sources:\n  - {id: a, url: 'https://a.example/', full_text: {selector: 'div(('}}\nsections:\n  - {id: s, sources: [a]}\n"))
	if err != nil {
		t.Fatalf("Parse() error:\n%v", err)
	}
	if got := cfg.Sources[0].FullText.Selector; got != "div((" {
		t.Errorf("selector = %q, want div((", got)
	}
	_, err = Parse("feeds.yaml", "/etc/newsdesk", []byte("sources:\n  - {id: a, url: 'https://a.example/', full_text: {selector: ''}}\nsections:\n  - {id: s, sources: [a]}\n"))
	if want := `feeds.yaml:2:62: source "a": full_text.selector is empty: give a CSS selector, e.g. div.article__content`; err == nil || err.Error() != want {
		t.Errorf("Parse() error = %v, want %s", err, want)
	}
}

// TestShippedConfigFullTextOff: the shipped feeds.yaml leaves full text off
// (republishing whole articles needs the publisher's permission).
func TestShippedConfigFullTextOff(t *testing.T) {
	cfg, err := Load("../feeds.yaml")
	if err != nil {
		t.Fatalf("shipped feeds.yaml: %v", err)
	}
	for _, src := range cfg.Sources {
		if src.FullText.Enabled {
			t.Errorf("shipped source %q has full_text on, want off", src.ID)
		}
	}
}
