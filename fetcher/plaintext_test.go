package fetcher

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// TestCollapseSpaceFastPath holds collapseSpace and plainText, which
// return a field untouched when there is nothing to do, to what they
// computed before: strings.Fields joined, and HTMLText between control
// character strips.
func TestCollapseSpaceFastPath(t *testing.T) {
	cases := []string{
		"", " ", "a", "a b", " a", "a ", "a  b", "a\tb", "a\nb", "a\u00a0b", "a\u0085b", "a\u3000b",
		"a\vb", "\u2009", "Привет мир", "bad \xff utf8", "a\x01b", "AT&T", "<b>x</b>", "a &amp; b", "x\u200bz",
	}
	pieces := []string{"a", "Б", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "&", "<i>", "\x02", "\xfe", "word"}
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		var b strings.Builder
		for range r.IntN(8) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := collapseSpace(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
		want := strings.Join(strings.Fields(stripControls(newsdesk.HTMLText(stripControls(s)))), " ")
		if got := plainText(s); got != want {
			t.Errorf("plainText(%q) = %q, want %q", s, got, want)
		}
	}
}
