package config

import (
	"fmt"
	"testing"
)

// TestConfigMaxItemsPerFetch: max_items_per_fetch defaults to 5,000, is set
// in defaults and per source, 0 turns the cap off, and a negative or
// non-numeric value is a problem at its line and column.
func TestConfigMaxItemsPerFetch(t *testing.T) {
	cfg, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(`
defaults:
  max_items_per_fetch: 200
sources:
  - id: default
    url: https://a.example/rss
  - id: own
    url: https://b.example/rss
    max_items_per_fetch: 50
  - id: uncapped
    url: https://c.example/rss
    max_items_per_fetch: 0
sections:
  - id: s
    sources: [default, own, uncapped]
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, src := range cfg.Sources {
		got = append(got, src.MaxItemsPerFetch)
	}
	if fmt.Sprint(got) != "[200 50 0]" {
		t.Errorf("max_items_per_fetch = %v, want [200 50 0]", got)
	}

	cfg, err = Parse("feeds.yaml", "/etc/newsdesk", []byte(`
sources:
  - id: a
    url: https://a.example/rss
sections:
  - id: s
    sources: [a]
`))
	if err != nil {
		t.Fatal(err)
	}
	if n := cfg.Sources[0].MaxItemsPerFetch; n != 5000 {
		t.Errorf("default max_items_per_fetch = %d, want 5000", n)
	}

	_, err = Parse("feeds.yaml", "/etc/newsdesk", []byte(`defaults:
  max_items_per_fetch: -1
sources:
  - id: a
    url: https://a.example/rss
    max_items_per_fetch: lots
sections:
  - id: s
    sources: [a]
`))
	want := "feeds.yaml:2:24: max_items_per_fetch -1: must not be negative (0 means no cap; the default is 5000)\n" +
		`feeds.yaml:6:26: "lots" is not a whole number`
	if err == nil || err.Error() != want {
		t.Errorf("problems = %v\nwant %s", err, want)
	}
}
