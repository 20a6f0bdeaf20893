//go:build postgres

package postgres

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/newsdesk/newsdesk"
)

// storedItem is an item as stored (items.data): Dated records whether the
// feed gave it a date of its own, as in the bbolt engine.
type storedItem struct {
	newsdesk.Item
	Dated bool `json:",omitempty"`
}

// maxID is the longest item id stored as it is. It is the bbolt engine's
// (a bbolt key, 32,768 bytes, less 8 bytes of time) so that both engines
// store the same ids and a store can move between them.
const maxID = 32768 - 8

// storedID is the id under which an item is stored: its own, unless it is
// longer than maxID; then "sha256:" and the hex SHA-256 of it.
func storedID(id string) string {
	if len(id) <= maxID {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// hash is the SHA-256 of s: the indexed form of ids, links and titles.
func hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// orNil is hash(s), or nil (SQL NULL) for "".
func orNil(s string) []byte {
	if s == "" {
		return nil
	}
	return hash(s)
}

func ns(t time.Time) int64 { return t.UnixNano() }

func nsTime(n int64) time.Time { return time.Unix(0, n).UTC() }

// titleKey is the form in which two titles that differ only in case,
// punctuation and spacing are equal; "" for titles too short to compare.
// The same as the bbolt engine's.
func titleKey(title string) string {
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

func sameItem(a, b storedItem) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}
