package newsdesk

import (
	"slices"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://wire.example/feed.xml":                  "https://wire.example/feed.xml",
		"https://user:hunter2@wire.example/feed.xml?a=b": "https://user:xxxxx@wire.example/feed.xml?a=b",
		"https://TOKEN@wire.example/":                    "https://xxxxx@wire.example/",
		"https://us er:hunter2@wire.example/%zz":         "https://xxxxx@wire.example/%zz",
		"not a url":                                      "not a url",
		"https://us er:pa/ss@wire.example/feed":          "https://xxxxx@wire.example/feed",
	} {
		if got := RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestSourceSecrets(t *testing.T) {
	src := Source{URL: "https://u:urlpass@wire.example/", Auth: &BasicAuth{Username: "newsdesk", Password: "basicpass"},
		Headers: []Header{{Name: "X-Api-Key", Value: "key123"}, {Name: "X-Empty"}}}
	if got, want := src.Secrets(), []string{"basicpass", "key123", "urlpass"}; !slices.Equal(got, want) {
		t.Errorf("Secrets = %q, want %q", got, want)
	}
	if !src.HasCredentials() || (Source{URL: "https://wire.example/"}).HasCredentials() {
		t.Error("HasCredentials is wrong")
	}
}
