package postgres

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/newsdesk/newsdesk"
)

// storedItem is an item as stored (items.data): Dated records whether the
// feed gave it a date of its own, as in the bbolt engine.
type storedItem struct {
	newsdesk.Item
	Dated bool `json:",omitempty"`
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

func sameItem(a, b storedItem) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}
