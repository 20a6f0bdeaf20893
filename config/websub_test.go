package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestWebSubKeys(t *testing.T) {
	cfg, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(`
server:
  base_url: https://news.example.org/
  websub_allow_private: true
publish:
  websub_hubs: [https://hub.example/, "http://hub2.example/pub?x=1"]
defaults:
  websub: true
sources:
  - id: a
    url: https://a.example/rss
  - id: b
    url: https://b.example/rss
    websub: false
sections:
  - id: s
    sources: [a, b]
`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://hub.example/", "http://hub2.example/pub?x=1"}; !slices.Equal(cfg.WebSubHubs, want) {
		t.Errorf("WebSubHubs = %q, want %q", cfg.WebSubHubs, want)
	}
	if !cfg.WebSubAllowPrivate {
		t.Error("WebSubAllowPrivate = false, want true")
	}
	if !cfg.Sources[0].WebSub || cfg.Sources[1].WebSub {
		t.Errorf("WebSub of a, b = %v, %v; want true (defaults), false (its own)", cfg.Sources[0].WebSub, cfg.Sources[1].WebSub)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("Warnings = %v, want none", cfg.Warnings)
	}
}

func TestWebSubProblems(t *testing.T) {
	_, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(`server:
  websub_allow_private: yes please
publish:
  websub_hubs: [/websub, "ftp://hub.example/", https://hub.example/#x, https://h.example/, https://h.example/]
defaults:
  websub: 1
sources:
  - id: a
    url: https://a.example/rss
    websub: maybe
sections:
  - id: s
    sources: [a]
`))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse() error = %v, want Problems", err)
	}
	want := []string{
		`feeds.yaml:2:25: "yes please" is not true or false`,
		`feeds.yaml:4:17: publish.websub_hubs: "/websub" must start with http:// or https://: give the hub's URL, e.g. https://pubsubhubbub.appspot.com/`,
		`feeds.yaml:4:26: publish.websub_hubs: "ftp://hub.example/" must start with http:// or https://: give the hub's URL, e.g. https://pubsubhubbub.appspot.com/`,
		`feeds.yaml:4:48: publish.websub_hubs: "https://hub.example/#x" has a fragment, which is never sent to the hub: remove the part from #`,
		`feeds.yaml:4:92: publish.websub_hubs: "https://h.example/" is listed twice: remove one`,
		`feeds.yaml:6:11: "1" is not true or false`,
		`feeds.yaml:10:13: "maybe" is not true or false`,
	}
	if got := strings.Split(ps.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWebSubWarnings(t *testing.T) {
	const rest = `
defaults:
  websub: true
sources:
  - id: a
    url: https://a.example/rss
    websub: true
  - id: b
    url: https://b.example/rss
    websub: false
sections:
  - id: s
    sources: [a, b]
`
	tests := []struct {
		name, server string
		want         string // the start of the warning at each websub: true; empty: none
		reachable    bool
	}{
		{"no base_url", "", "server.base_url is not set", false},
		{"loopback", "server:\n  base_url: http://127.0.0.1:8080/\n", "server.base_url http://127.0.0.1:8080/ is a loopback or private address", false},
		{"private", "server:\n  base_url: http://10.1.2.3/\n", "server.base_url http://10.1.2.3/ is a loopback or private", false},
		{"localhost name", "server:\n  base_url: http://news.localhost/\n", "server.base_url http://news.localhost/ is a loopback", false},
		{"ipv6 ula", "server:\n  base_url: http://[fd00::1]:8080/\n", "server.base_url http://[fd00::1]:8080/ is a loopback", false},
		{"allowed", "server:\n  base_url: http://127.0.0.1:8080/\n  websub_allow_private: true\n", "", true},
		{"public", "server:\n  base_url: https://news.example.org/\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(tt.server+rest))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.WebSubReachable(); got != tt.reachable {
				t.Errorf("WebSubReachable() = %v, want %v", got, tt.reachable)
			}
			if tt.want == "" {
				if len(cfg.Warnings) != 0 {
					t.Errorf("Warnings = %v, want none", cfg.Warnings)
				}
				return
			}
			// defaults.websub and source a's, not b's false.
			if len(cfg.Warnings) != 2 {
				t.Fatalf("Warnings = %v, want 2", cfg.Warnings)
			}
			lines := strings.Count(tt.server, "\n")
			for i, line := range []int{lines + 3, lines + 7} {
				w := cfg.Warnings[i]
				if w.Line != line || !strings.HasPrefix(w.Msg, "warning: websub is on but "+tt.want) || !strings.Contains(w.Msg, "websub_allow_private: true") {
					t.Errorf("warning %d = %s, want at line %d: warning: websub is on but %s... naming the fix", i, w, line, tt.want)
				}
			}
		})
	}
}

func TestWebSubNoWarningWhenOff(t *testing.T) {
	cfg, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(`
defaults:
  websub: true
sources:
  - id: a
    url: https://a.example/rss
    websub: false
sections:
  - id: s
    sources: [a]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("Warnings = %v, want none: no source has websub on", cfg.Warnings)
	}
}
