package newsdesk_test

import (
	"regexp"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// idPattern is ValidID's rule as its comment states it.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

func FuzzValidID(f *testing.F) {
	for _, s := range []string{"", "a", "moscow-times", "-a", "_a", "A", "a/b", "..", "a.b", "ж", "a\x00",
		"0123456789012345678901234567890123456789012345678901234567890123",
		"01234567890123456789012345678901234567890123456789012345678901234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := newsdesk.ValidID(id), idPattern.MatchString(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v (%s)", id, got, want, idPattern)
		}
	})
}
