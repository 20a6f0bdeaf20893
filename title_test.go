package newsdesk

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCapTitle(t *testing.T) {
	tests := []struct {
		name, in string
		wantLen  int // in bytes
	}{
		{"short stays", "Kremlin says talks will continue", 32},
		{"exactly the cap stays", strings.Repeat("a", MaxTitle), MaxTitle},
		{"ascii is cut", strings.Repeat("a", 40_000), MaxTitle},
		{"cut on a character boundary", strings.Repeat("я", 600), MaxTitle - 1}, // 2-byte runes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CapTitle(tt.in)
			if len(got) != tt.wantLen || !utf8.ValidString(got) {
				t.Errorf("CapTitle() = %d bytes (valid UTF-8: %v), want %d", len(got), utf8.ValidString(got), tt.wantLen)
			}
			if len(tt.in) > MaxTitle && !strings.HasSuffix(got, "…") {
				t.Errorf("CapTitle() = ...%q, want it to end in …", got[len(got)-10:])
			}
		})
	}
}
