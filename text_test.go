package newsdesk_test

import (
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

func TestHTMLText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "  Talks   on\ntrade ", "Talks on trade"},
		{"inline tag inside a word", "<em>cheer</em>ed", "cheered"},
		{"inline tags of every list", "<font>a</font><tt>b</tt><strike>c</strike>d<wbr>e<span>f</span>", "abcdef"},
		{"block tags separate words", "<p>a</p><p>b</p>c<br>d", "a b c d"},
		{"entities decoded once", "AT&amp;T &amp;lt;b&amp;gt; &#1055;", "AT&T &lt;b&gt; П"},
		{"decoded markup is text", "&lt;b&gt;bold&lt;/b&gt;", "<b>bold</b>"},
		{"a < that starts no tag", "a < b <3 c", "a < b <3 c"},
		{"quoted > in an attribute", `<img alt="a > b" src="x.jpg">text`, "text"},
		{"unquoted attribute", `<a href=x>link</a>ed`, "linked"},
		{"comment", "a<!-- <b>not</b> -->b", "ab"},
		{"doctype and processing instruction", "<!DOCTYPE html><?xml version='1.0'?>text", "text"},
		{"script and style are not text", "a<script>if (a<b) x = '</p>'</script> b<STYLE>p{}</STYLE>c", "a b c"},
		{"a tag cut off at the end", "title <b class=", "title"},
		{"an unclosed comment", "title <!-- rest", "title"},
		{"upper-case tags", "<EM>cheer</EM>ed<P>x", "cheered x"},
		{"end tag without name", "a</>b", "ab"},
		{"bogus end tag", "a</ 3>b", "ab"},
		{"non-breaking space collapses", "a\u00a0 b", "a b"},
		{"= where a name is expected is a name", `<p ="x>y`, "y"},
		{"unquoted value", `<img src=a>b c`, "b c"},
		{"</ at the end is text", "a</", "a</"},
		{"< at the end is text", "a <", "a <"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newsdesk.HTMLText(tt.in); got != tt.want {
				t.Errorf("HTMLText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestRuleMatchesWhatReadersSee is the rule side of the one html-to-text:
// a rule matches a word that an inline tag splits, as the published
// snippet shows it ("cheered").
func TestRuleMatchesWhatReadersSee(t *testing.T) {
	it := &newsdesk.Item{Summary: "<p>The crowd <em>cheer</em>ed.</p>", Content: "<p>a<b>b</b>c</p>"}
	for _, rule := range []string{"summary:cheered", "cheered", "content:abc", "/^The crowd/"} {
		r, err := newsdesk.ParseRule(rule)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Match(it) {
			t.Errorf("rule %q does not match %q (text %q)", rule, it.Summary, newsdesk.HTMLText(it.Summary))
		}
	}
}

// FuzzHTMLText: any input gives one line of text without markup
// characters it did not decode, and never panics.
func FuzzHTMLText(f *testing.F) {
	for _, s := range []string{"<em>cheer</em>ed", "a < b", `<img alt="a>b">x`, "a<!-- x -->b", "<script>x</script>", "&lt;b&gt;", "</", "<p =\">x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := newsdesk.HTMLText(s)
		if strings.ContainsAny(got, "\n\t\r") || strings.Contains(got, "  ") || got != strings.TrimSpace(got) {
			t.Errorf("HTMLText(%q) = %q, want one line, single spaces, trimmed", s, got)
		}
		if again := newsdesk.HTMLText(got); !strings.ContainsAny(got, "<&") && again != got {
			t.Errorf("HTMLText(HTMLText(%q)) = %q, want %q: text without markup is kept", s, again, got)
		}
	})
}
