package newsdesk

import (
	"strings"
	"unicode/utf8"
)

// MaxTitle is the longest item title kept, in bytes. Real headlines are a
// few hundred bytes at most; a feed that sends a book as a title gets it cut
// here, so it can neither bloat every rendered feed nor outgrow the store's
// keys (the titles index is keyed by the title).
const MaxTitle = 1000

// CapTitle cuts a title longer than MaxTitle bytes at a character boundary
// and ends it with "…", so that the result is at most MaxTitle bytes.
func CapTitle(s string) string {
	if len(s) <= MaxTitle {
		return s
	}
	const ellipsis = "…"
	cut := MaxTitle - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ") + ellipsis
}
