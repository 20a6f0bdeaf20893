package websub

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/newsdesk/newsdesk"
)

func TestParseLinks(t *testing.T) {
	base, _ := url.Parse("https://example.org/feeds/news.xml")
	tests := []struct {
		name    string
		headers []string
		want    newsdesk.WebSubLinks
	}{
		{"none", nil, newsdesk.WebSubLinks{}},
		{"one header two links",
			[]string{`<https://hub.example/>; rel="hub", <https://example.org/feed>; rel="self"`},
			newsdesk.WebSubLinks{Hubs: []string{"https://hub.example/"}, Self: "https://example.org/feed"}},
		{"two headers unquoted",
			[]string{`<https://hub.example/>; rel=hub`, `<https://example.org/feed>; rel=self`},
			newsdesk.WebSubLinks{Hubs: []string{"https://hub.example/"}, Self: "https://example.org/feed"}},
		{"several rel values, case",
			[]string{`<https://example.org/feed>; rel="alternate SELF"; type="application/atom+xml"`, `<https://h.example/p>; REL="Hub"`},
			newsdesk.WebSubLinks{Hubs: []string{"https://h.example/p"}, Self: "https://example.org/feed"}},
		{"relative resolved",
			[]string{`</hub>; rel="hub", <news.xml>; rel="self"`},
			newsdesk.WebSubLinks{Hubs: []string{"https://example.org/hub"}, Self: "https://example.org/feeds/news.xml"}},
		{"several hubs, repeats dropped, first self wins",
			[]string{`<https://a.example/>; rel=hub, <https://b.example/>; rel=hub, <https://a.example/>; rel=hub`, `<https://x.example/1>; rel=self, <https://x.example/2>; rel=self`},
			newsdesk.WebSubLinks{Hubs: []string{"https://a.example/", "https://b.example/"}, Self: "https://x.example/1"}},
		{"comma inside a quoted param",
			[]string{`<https://a.example/>; title="a, b"; rel="hub", <https://x.example/>; rel="self"`},
			newsdesk.WebSubLinks{Hubs: []string{"https://a.example/"}, Self: "https://x.example/"}},
		{"first rel only",
			[]string{`<https://a.example/>; rel="next"; rel="hub"`},
			newsdesk.WebSubLinks{}},
		{"not http",
			[]string{`<javascript:alert(1)>; rel="hub", <mailto:a@b>; rel=self`},
			newsdesk.WebSubLinks{}},
		{"other rels ignored",
			[]string{`<https://example.org/page/2>; rel="next"`},
			newsdesk.WebSubLinks{}},
		{"garbage", []string{`rel=hub; <`, `<https://a.example/`, `;;;,,,<>`}, newsdesk.WebSubLinks{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseLinks(tt.headers, base)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLinks(%q) = %+v, want %+v", tt.headers, got, tt.want)
			}
		})
	}
}

// FuzzParseLinks checks that no header makes ParseLinks panic and that
// every link it returns is an absolute http(s) URL.
func FuzzParseLinks(f *testing.F) {
	f.Add(`<https://hub.example/>; rel="hub", <https://example.org/feed>; rel="self"`)
	f.Add(`</hub>; rel=hub; title="a, \"b\""`)
	f.Add(`<`)
	base, _ := url.Parse("https://example.org/feed")
	f.Fuzz(func(t *testing.T, h string) {
		l := ParseLinks([]string{h}, base)
		for _, u := range append(l.Hubs, l.Self) {
			if u == "" {
				continue
			}
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				t.Errorf("ParseLinks(%q) gave %q, not an absolute http(s) URL", h, u)
			}
		}
	})
}
