package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/newsdesk/newsdesk"
	bbolt "go.etcd.io/bbolt"
)

var (
	bucketMeta   = []byte("meta")
	bucketState  = []byte("state")
	bucketCounts = []byte("counts")
	bucketItems  = []byte("items")
	bucketByTime = []byte("bytime")
	bucketSeen   = []byte("seen")
	bucketLinks  = []byte("links")
	bucketTitles = []byte("titles")
	bucketEdits  = []byte("editorial")
	keySchema    = []byte("schema")
)

// schemaVersion is the version of the layout above that this code reads
// and writes; migrations (migrate.go) bring older files up to it.
const schemaVersion = 3

// storedItem is an item as kept on disk. Dated records whether the feed gave
// the item a date of its own, so that a re-fetch of an undated item keeps its
// first-seen date instead of looking changed.
type storedItem struct {
	newsdesk.Item
	Dated bool `json:",omitempty"`
}

// timeBytes is the sortable 8-byte form of a time.
func timeBytes(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())^(1<<63))
}

func bytesTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63))).UTC()
}

// timeKey is the time-index key of an item: its sortable time, then its id.
func timeKey(t time.Time, id string) []byte {
	return append(timeBytes(t), id...)
}

func keyTime(k []byte) time.Time { return bytesTime(k[:8]) }

func linkKey(link string, firstSeen time.Time, src, id string) []byte {
	k := append([]byte(link), 0)
	k = append(k, timeBytes(firstSeen)...)
	return append(append(append(k, src...), 0), id...)
}

func titleIndexKey(title string, published time.Time, src, id string) []byte {
	k := append([]byte(title), 0)
	k = append(k, timeBytes(published)...)
	return append(append(append(k, src...), 0), id...)
}

// titleKey is the form in which two titles that differ only in case,
// punctuation and spacing are equal; "" for titles too short to compare.
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

func getItem(b *bbolt.Bucket, id string) (storedItem, bool, error) {
	var it storedItem
	v := b.Get([]byte(id))
	if v == nil {
		return it, false, nil
	}
	if err := json.Unmarshal(v, &it); err != nil {
		return it, false, fmt.Errorf("item %q: %w", id, err)
	}
	return it, true, nil
}

func sameItem(a, b storedItem) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// maxIDKey is the longest item id used as a key as it is: the longest key
// that holds nothing but an id is its time-index key, 8 bytes of time and
// the id.
const maxIDKey = bbolt.MaxKeySize - 8

// storedID is the id under which an item is stored: its own id, unless
// that is too long for a bbolt key; then "sha256:" and the hex SHA-256 of
// it. The form depends on the id alone, so the same item gets the same key
// on every fetch, and no id that fitted before is ever re-keyed.
func storedID(id string) string {
	if len(id) <= maxIDKey {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// fits reports whether k can be a bbolt key. Index entries (links, titles)
// whose key cannot are left out: such an item is only not found as another
// source's duplicate by its link or title, which takes an absurd link.
func fits(k []byte) bool { return len(k) <= bbolt.MaxKeySize }
