package newsdesk_test

import (
	"testing"

	"github.com/newsdesk/newsdesk"
)

func TestCanonicalLink(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.themoscowtimes.com/2026/11/26/a-1", "https://www.themoscowtimes.com/2026/11/26/a-1"},
		{"HTTPS://WWW.Example.COM/Path/Case", "https://www.example.com/Path/Case"},
		{"http://example.com:80/a", "http://example.com/a"},
		{"https://example.com:443/a", "https://example.com/a"},
		{"http://example.com:8080/a", "http://example.com:8080/a"},
		{"https://example.com:80/a", "https://example.com:80/a"},
		{"https://example.com", "https://example.com/"},
		{"https://example.com/a#comments", "https://example.com/a"},
		{"https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", "https://example.com/a"},
		{"https://example.com/a?id=7&utm_source=rss&page=2", "https://example.com/a?id=7&page=2"},
		{"https://example.com/a?b=2&a=1", "https://example.com/a?b=2&a=1"}, // order kept
		{"https://example.com/a?fbclid=IwAR0&gclid=x&mc_cid=1&mc_eid=2&yclid=3&_ga=4&ref_src=twsrc", "https://example.com/a"},
		{"https://example.com/a?UTM_Source=x&q=caf%C3%A9", "https://example.com/a?q=caf%C3%A9"},
		{"https://example.com/a?", "https://example.com/a"},
		{"http://[::1]:80/a", "http://[::1]/a"},
		{"  https://example.com/a  ", "https://example.com/a"},
		{"mailto:someone@example.com", "mailto:someone@example.com"},
		{"/relative/path", "/relative/path"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := newsdesk.CanonicalLink(tt.in); got != tt.want {
			t.Errorf("CanonicalLink(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
