package config

import (
	"errors"
	"os"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// FuzzConfig: whatever bytes feeds.yaml holds, Parse returns a config or
// problems placed in the file, never panics, and what it accepts holds
// together (every section's sources exist); FindSources never panics on
// them either. CI runs it beyond its seeds for 15 seconds.
func FuzzConfig(f *testing.F) {
	shipped, err := os.ReadFile("../feeds.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(shipped)
	example, err := readmeExample()
	if err != nil {
		f.Fatal(err)
	}
	f.Setenv("NEWSROOM_TOKEN", "0123456789abcdef0123")
	f.Setenv("WIRE_PASSWORD", "readme-password")
	f.Setenv("WIRE_KEY", "readme-key")
	f.Add([]byte(example))
	broken, _ := brokenConfig(20)
	for _, seed := range []string{
		string(broken),
		string(manySources(5)),
		aliasBomb(3, "sources: BOMB\nsections:\n  - id: s\n    tags: BOMB\n"),
		"",
		"# only a comment\n",
		"---\n...\n---\nsources: []\n",
		"sources:\n\t- id: tab\n",
		"sources:\n  - id: a\n    url: https://a.example/\n    schedule: \"@every 1s\"\n    interval: 1s\nsections:\n  - id: s\n    sources: [a, b]\n    token: short\n",
		"server: {listen: ':99999', base_url: 'ftp://x/?q#f'}\nstorage: {path: ''}\n",
		"sources: [{id: a, url: 'https://a.example/', retention: {min_items: 9, max_items: 3}}]\nsections: [{id: s, tags: [nope], include: ['/(?i)half']}]\n",
		"defaults: {full_text: {remove: [.share], per_pass: 5}}\nsources:\n  - {id: a, url: 'https://a.example/', full_text: {selector: 'div.article', remove: x, per_pass: 0, attribution: no, allow_private: true, k: 1}}\n  - {id: b, url: 'https://b.example/', full_text: [true]}\nsections: [{id: s, sources: [a, b]}]\n",
		"\xef\xbb\xbfsources:\r\n  - id: a\r\n    url: https://a.example/\r\nsections:\r\n  - id: s\r\n    sources: [a]\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("feeds.yaml", "/etc/newsdesk", data)
		FindSources(data)
		var ps Problems
		switch {
		case errors.As(err, &ps):
			if len(ps) == 0 {
				t.Fatal("Parse() = empty Problems")
			}
			for i, p := range ps {
				if p.Path != "feeds.yaml" || p.Line < 1 || p.Col < 1 || p.Msg == "" {
					t.Fatalf("problem %d = %+v, want a message at a place in feeds.yaml", i, p)
				}
				if i > 0 && (p.Line < ps[i-1].Line || p.Line == ps[i-1].Line && p.Col < ps[i-1].Col) {
					t.Fatalf("problems out of file order: %v", ps)
				}
			}
		case err != nil:
			t.Fatalf("Parse() = %v, want a config or Problems", err)
		case cfg == nil:
			t.Fatal("Parse() = nil, nil")
		default:
			checkConsistent(t, cfg)
		}
	})
}

// checkConsistent fails unless cfg's sections publish only sources it has,
// and every id is a valid one.
func checkConsistent(t *testing.T, cfg *Config) {
	t.Helper()
	ids := map[string]bool{}
	for _, s := range cfg.Sources {
		if !newsdesk.ValidID(s.ID) || ids[s.ID] {
			t.Fatalf("accepted source id %q: invalid or repeated", s.ID)
		}
		ids[s.ID] = true
	}
	for _, sec := range cfg.Sections {
		if !newsdesk.ValidID(sec.ID) {
			t.Fatalf("accepted section id %q", sec.ID)
		}
		for _, id := range sec.Sources {
			if !ids[id] {
				t.Fatalf("section %q publishes %q, which is not a source", sec.ID, id)
			}
		}
	}
}
