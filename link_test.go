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

// TestHTTPURL checks the one rule for URLs newsdesk republishes: http(s)
// with a host, or nothing.
func TestHTTPURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/a", "https://example.com/a"},
		{" http://example.com/a \n", "http://example.com/a"},
		{"HTTPS://Example.com/", "HTTPS://Example.com/"},
		{"javascript:alert(1)", ""},
		{"JavaScript:alert(document.domain)", ""},
		{" javascript:alert(1)", ""},
		{"java\tscript:alert(1)", ""},
		{"vbscript:msgbox(1)", ""},
		{"data:text/html,<script>alert(1)</script>", ""},
		{"mailto:someone@example.com", ""},
		{"ftp://example.com/file", ""},
		{"//example.com/a", ""},
		{"/relative/path", ""},
		{"https:///no-host", ""},
		{"http://exa mple.com/", ""},
		{"http://example.com/\x01", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := newsdesk.HTTPURL(tt.in); got != tt.want {
			t.Errorf("HTTPURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := newsdesk.IsHTTPURL(tt.in); got != (tt.want != "" && tt.in == tt.want) {
			t.Errorf("IsHTTPURL(%q) = %v", tt.in, got)
		}
	}
	for in, want := range map[string]string{
		"ftp://example.com/": "must start with http:// or https://",
		"https://":           "has no host name",
		"http://[::1":        "is not a URL: missing ']' in host",
	} {
		if err := newsdesk.CheckHTTPURL(in); err == nil || err.Error() != want {
			t.Errorf("CheckHTTPURL(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestIsFeedID(t *testing.T) {
	for in, want := range map[string]bool{
		"tag:example.org,2026:feed":                     true,
		"urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6": true,
		"https://example.org/feed.atom":                 true,
		"javascript:alert(1)":                           false,
		"data:text/plain,x":                             false,
		"tag:":                                          false,
		"tag:a b":                                       false,
		"plain words":                                   false,
	} {
		if got := newsdesk.IsFeedID(in); got != want {
			t.Errorf("IsFeedID(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestURLKey: the one normalization for "the same feed URL", which import
// uses to skip feeds feeds.yaml already has. It is CanonicalLink's, so a
// feed URL that differs only by tracking parameters is the same feed too.
func TestURLKey(t *testing.T) {
	same := [][2]string{
		{"https://Example.COM/feed", "https://example.com/feed/"},
		{"HTTPS://example.com", "https://example.com/"},
		{"http://example.com:80/rss", "http://example.com/rss"},
		{"https://example.com:443/rss#top", "https://example.com/rss"},
		{" https://example.com/rss ", "https://example.com/rss"},
		{"https://example.com/rss?utm_source=feedly", "https://example.com/rss"},
		{"http://[::1]:80/rss", "http://[::1]/rss"},
	}
	for _, p := range same {
		if a, b := newsdesk.URLKey(p[0]), newsdesk.URLKey(p[1]); a != b {
			t.Errorf("URLKey(%q) = %q, URLKey(%q) = %q, want equal", p[0], a, p[1], b)
		}
	}
	different := [][2]string{
		{"https://example.com/Feed", "https://example.com/feed"},
		{"http://example.com/feed", "https://example.com/feed"},
		{"https://example.com/feed?a=1", "https://example.com/feed?a=2"},
		{"https://example.com:8080/feed", "https://example.com/feed"},
	}
	for _, p := range different {
		if a, b := newsdesk.URLKey(p[0]), newsdesk.URLKey(p[1]); a == b {
			t.Errorf("URLKey(%q) = URLKey(%q) = %q, want different", p[0], p[1], a)
		}
	}
}
