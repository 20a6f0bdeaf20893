package charset

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStripControlsScan holds StripControls, which finds clean strings by
// a byte scan, to its definition: a string is returned as it is when it
// is valid UTF-8 without a forbidden rune, else cleaned.
func TestStripControlsScan(t *testing.T) {
	pieces := []string{"a", "Ж", "\t", "\n", "\r", "\x00", "\x01", "\x1f", " ", "\uFFFE", "\uFFFF", "\uFFFD",
		"\xef\xbf", "\xef", "\xbf\xbe", "\xff", "€", "\U0001F600", "\x7f"}
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		want := s
		if strings.ContainsFunc(s, forbiddenRune) || !utf8.ValidString(s) {
			want = string(cleanUTF8([]byte(s)))
		}
		if got := StripControls(s); got != want {
			t.Fatalf("StripControls(%q) = %q, want %q", s, got, want)
		}
	}
}
