package postgres

import (
	"crypto/sha256"
	"time"

	"github.com/newsdesk/newsdesk/store"
)

// storedItem is an item as stored (items.data), as every engine stores it.
type storedItem = store.Record

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
