package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/newsdesk/newsdesk/store"
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

// storedItem is an item as kept on disk, as every engine stores it.
type storedItem = store.Record

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

func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// fits reports whether k can be a bbolt key. Index entries (links, titles)
// whose key cannot are left out: such an item is only not found as another
// source's duplicate by its link or title, which takes an absurd link.
func fits(k []byte) bool { return len(k) <= bbolt.MaxKeySize }

// store.MaxStoredID must fit bbolt: an id that long, behind the 8 bytes of
// time of its time-index key, is still a bbolt key (this fails to compile
// otherwise).
var _ [bbolt.MaxKeySize - 8 - store.MaxStoredID]struct{}
