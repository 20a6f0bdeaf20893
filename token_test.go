package newsdesk_test

import (
	"testing"

	"github.com/newsdesk/newsdesk"
)

// TestTokenEqual: the comparison private sections and the admin pages use
// accepts exactly the token, and never an empty one.
func TestTokenEqual(t *testing.T) {
	for _, tt := range []struct {
		got, want string
		equal     bool
	}{
		{"open sesame", "open sesame", true},
		{"open sesamE", "open sesame", false},
		{"open sesam", "open sesame", false},
		{"open sesame!", "open sesame", false},
		{"", "open sesame", false},
		{"open sesame", "", false},
		{"", "", false},
	} {
		if got := newsdesk.TokenEqual(tt.got, tt.want); got != tt.equal {
			t.Errorf("TokenEqual(%q, %q) = %v, want %v", tt.got, tt.want, got, tt.equal)
		}
	}
}
