package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// The rules every engine keeps alike, so that stores behave the same and a
// store can move from one engine to another.

// MaxStoredID is the longest item id stored as it is: the bbolt engine's
// limit (a bbolt key holds 32,768 bytes, and its time index puts 8 bytes of
// time before the id), kept by every engine so that all store the same ids.
const MaxStoredID = 32768 - 8

// StoredID is the id under which an item is stored: its own id, unless it
// is longer than MaxStoredID; then "sha256:" and the hex SHA-256 of it. The
// form depends on the id alone, so the same item gets the same key on every
// fetch, and no id that fitted before is ever re-keyed.
func StoredID(id string) string {
	if len(id) <= MaxStoredID {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TombstoneTTL is how long a pruned item's id is remembered after the feed
// last carried it. Feeds drop old items; one that has been gone from its
// feed for this long does not come back.
const TombstoneTTL = 30 * 24 * time.Hour

// TitleWindow is how close in time two near-identical titles from
// different sources must be to count as the same story.
const TitleWindow = 48 * time.Hour

// PurgeBatch is how many items of an orphaned source one purge transaction
// removes, so a purge never holds the store for long.
const PurgeBatch = 5000

// TitleKey is the form in which two titles count as the same story's: lower
// case, letters and digits only, single spaces between words; "" for a
// title too short (under 12 characters) to tell stories apart.
func TitleKey(title string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(title) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		default:
			space = true
		}
	}
	if len([]rune(b.String())) < 12 {
		return ""
	}
	return b.String()
}

// SkipReason says why one item of a fetch could not be stored (its
// siblings still are), for status: the item's id, cut to 80 bytes, and err.
func SkipReason(id string, err error) string {
	if len(id) > 80 {
		id = id[:80] + "…"
	}
	return fmt.Sprintf("item %q: %v", id, err)
}
