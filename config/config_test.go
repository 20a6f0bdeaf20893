package config

import (
	"errors"
	"github.com/newsdesk/newsdesk"
	"strings"
	"testing"
	"time"
)

func TestShippedConfigIsValid(t *testing.T) {
	cfg, err := Load("../feeds.yaml")
	if err != nil {
		t.Fatalf("shipped feeds.yaml: %v", err)
	}
	src, ok := cfg.Source("moscow-times")
	if !ok || src.Interval != 10*time.Minute || src.Timeout != 30*time.Second {
		t.Errorf("moscow-times = %+v, want interval 10m and timeout 30s", src)
	}
	if len(cfg.Sections) != 2 || cfg.Sections[0].ID != "russia" || cfg.Sections[1].ID != "north-korea" {
		t.Fatalf("sections = %+v, want russia and north-korea", cfg.Sections)
	}
	if got := cfg.Sections[0].Sources; len(got) != 1 || got[0] != "moscow-times" {
		t.Errorf("russia sources (by tag) = %q, want [moscow-times]", got)
	}
}

func TestConfigProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each a whole problem line
	}{
		{
			name: "everything wrong at once",
			yaml: `storage:
  path: x.db
  color: blue
defaults:
  interval: 10 minutes
  timeout: -1s
sources:
  - id: Moscow Times
    url: ftp://example.com/rss
  - id: ok
    url: https://example.com/rss
  - id: ok
    url: https://example.com/other
    tags: [news]
sections:
  - id: russia
    sources: [moscow-time, ok]
    tags: [newz]
    include: ["/(unclosed/"]
    limit: -5
  - id: empty
`,
			want: []string{
				`feeds.yaml:3:3: storage: unknown key "color" (known keys: path, purge_removed_after, postgres, lease)`,
				`feeds.yaml:5:13: bad duration "10 minutes": write a number with a unit, e.g. 90s, 15m or 2h`,
				`feeds.yaml:6:12: timeout -1s: must be more than 0 and at most 10m0s`,
				`feeds.yaml:8:9: source id "Moscow Times": use 1 to 64 lower-case letters, digits, - and _, starting with a letter or digit`,
				`feeds.yaml:9:10: source "Moscow Times": url "ftp://example.com/rss" must start with http:// or https://`,
				`feeds.yaml:12:9: duplicate source id "ok": each source needs its own id`,
				`feeds.yaml:17:15: section "russia": unknown source "moscow-time"`,
				`feeds.yaml:18:12: section "russia": no source has tag "newz" (did you mean "news"?)`,
				`feeds.yaml:19:15: include: bad regular expression /(unclosed/: missing closing ): ` + "`(unclosed`",
				`feeds.yaml:20:12: limit -5: must be at least 1 (the newest N items of the section)`,
				`feeds.yaml:21:5: section "empty" has no sources: add sources: [ID, ...] or tags: [TAG, ...]`,
			},
		},
		{
			name: "did you mean a key",
			yaml: "sources:\n  - id: a\n    url: https://a.example/\n    intervall: 5m\nsections:\n  - id: s\n    sources: [a]\n",
			want: []string{`feeds.yaml:4:5: a source: unknown key "intervall" (did you mean "interval"?) (known keys: id, title, url, interval, schedule, timeout, honor_cache_headers, max_body, max_items_per_fetch, retention, full_text, tags, websub, auth, headers, user_agent)`},
		},
		{
			name: "syntax error",
			yaml: "sources:\n  - id: a\n   url: x\n",
			want: []string{`feeds.yaml:3:1: YAML syntax: did not find expected '-' indicator`},
		},
		{
			name: "unclosed list",
			yaml: "sources:\n  - id: a\n    url: https://a.example/\n    tags: [x, y\nsections: []\n",
			want: []string{`feeds.yaml:4:1: YAML syntax: did not find expected ',' or ']'`},
		},
		{
			name: "empty",
			yaml: "",
			want: []string{`feeds.yaml:1:1: the file is empty: it needs at least a sources list and a sections list`},
		},
		{
			name: "fetching and retention",
			yaml: `fetch:
  concurrency: 0
  per_host: two
defaults:
  schedule: "*/10 6-23 * *"
  max_body: 10 megs
  honor_cache_headers: yes please
  retention: {max_age: 0s, max_items: 10, min_items: 20}
sources:
  - id: a
    url: https://a.example/
    interval: 5m
    schedule: "@hourly"
    retention: {min_items: -1, max_items: 5}
sections:
  - id: s
    sources: [a]
    dedupe: words
`,
			want: []string{
				`feeds.yaml:2:16: fetch.concurrency 0: must be at least 1`,
				`feeds.yaml:3:13: "two" is not a whole number`,
				`feeds.yaml:5:13: bad schedule "*/10 6-23 * *": expected exactly 5 fields, found 4: [*/10 6-23 * *] (use cron syntax: minute hour day-of-month month day-of-week, e.g. "*/10 6-23 * * *")`,
				`feeds.yaml:6:13: bad size "10 megs": write a number with an optional unit, e.g. 10MiB, 512KiB or 1048576`,
				`feeds.yaml:7:24: "yes please" is not true or false`,
				`feeds.yaml:8:24: retention.max_age 0s: must be more than 0`,
				`feeds.yaml:8:54: retention: min_items 20 is more than max_items 10`,
				`feeds.yaml:13:15: source "a": set interval or schedule, not both`,
				`feeds.yaml:14:28: retention.min_items -1: must not be negative`,
				`feeds.yaml:18:13: dedupe "words": write dedupe: titles to also collapse near-identical titles from different sources (same links always collapse)`,
			},
		},
		{
			name: "private sections",
			yaml: `sources:
  - id: a
    url: https://a.example/
sections:
  - id: short
    sources: [a]
    token: abc
  - id: both
    sources: [a]
    token: 0123456789abcdef0123
    token_env: NEWSDESK_TEST_TOKEN
  - id: unset
    sources: [a]
    token_env: NEWSDESK_TEST_UNSET_TOKEN
    max_age: -1h
`,
			want: []string{
				`feeds.yaml:7:12: section "short": token is too short to keep the section private: use at least 16 random characters (e.g. from ` + "`openssl rand -hex 16`" + `)`,
				`feeds.yaml:11:16: section "both": set token or token_env, not both`,
				`feeds.yaml:14:16: section "unset": token_env NEWSDESK_TEST_UNSET_TOKEN is not set in the environment: set it to the section's secret, or the section would be public`,
				`feeds.yaml:15:14: max_age -1h0m0s: must be more than 0`,
			},
		},
		{
			name: "too eager",
			yaml: "sources:\n  - id: a\n    url: https://a.example/\n    interval: 5s\nsections:\n  - id: s\n    sources: [a]\n",
			want: []string{`feeds.yaml:4:15: interval 5s is shorter than 1m0s: polling that often burdens the publisher`},
		},
		{
			name: "schedules obey the interval minimum",
			yaml: `defaults:
  schedule: "@every 30s"
sources:
  - id: a
    url: https://a.example/
    schedule: '@every 1s'
  - id: b
    url: https://b.example/
    schedule: "* * * * *"
  - id: c
    url: https://c.example/
    schedule: "0 0 30 2 *"
sections:
  - id: s
    sources: [a, b, c]
`,
			want: []string{
				`feeds.yaml:2:13: schedule "@every 30s" fires every 30s, more often than once every 1m0s: polling that often burdens the publisher (e.g. @every 10m, or "*/10 * * * *")`,
				`feeds.yaml:6:15: schedule "@every 1s" fires every 1s, more often than once every 1m0s: polling that often burdens the publisher (e.g. @every 10m, or "*/10 * * * *")`,
				`feeds.yaml:12:15: bad schedule "0 0 30 2 *": it never fires (no such date) (use cron syntax: minute hour day-of-month month day-of-week, e.g. "*/10 6-23 * * *")`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(tt.yaml))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse() error = %v, want Problems", err)
			}
			got := strings.Split(ps.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestConfigResolvesPathsAndDefaults(t *testing.T) {
	t.Setenv("NEWSDESK_TEST_TOKEN", "s3cr3t-0123456789abcdef")
	cfg, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(`
server:
  base_url: https://news.example.org/feeds
publish:
  dir: public
sources:
  - id: a
    url: https://a.example/rss
    tags: t
sections:
  - id: s
    tags: [t]
    include: [title:Kremlin]
    dedupe: titles
    max_age: 48h
  - id: private
    tags: [t]
    token_env: NEWSDESK_TEST_TOKEN
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DBPath != "/etc/newsdesk/newsdesk.db" || cfg.PublishDir != "/etc/newsdesk/public" {
		t.Errorf("paths = %q, %q; want them under /etc/newsdesk", cfg.DBPath, cfg.PublishDir)
	}
	if cfg.BaseURL != "https://news.example.org/feeds/" {
		t.Errorf("BaseURL = %q, want a trailing slash added", cfg.BaseURL)
	}
	s := cfg.Sections[0]
	if s.Title != "s" || s.Limit != 50 || len(s.Include) != 1 || s.Include[0].Field != "title" {
		t.Errorf("section = %+v, want title defaulted to id, limit 50, one title rule", s)
	}
	if src := cfg.Sources[0]; src.Interval != 15*time.Minute || src.Timeout != 30*time.Second || src.Retention != newsdesk.DefaultRetention {
		t.Errorf("source = %+v, want the default interval, timeout and retention", src)
	}
	if !s.DedupeTitles || s.MaxAge != 48*time.Hour || s.Token != "" {
		t.Errorf("section = %+v, want DedupeTitles, max_age 48h, public", s)
	}
	if p := cfg.Sections[1]; p.Token != "s3cr3t-0123456789abcdef" {
		t.Errorf("private section token = %q, want it read from NEWSDESK_TEST_TOKEN", p.Token)
	}
}
