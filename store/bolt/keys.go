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
const schemaVersion = 4

// storedItem is an item as every engine stores it; record.go is how this
// one encodes it.
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

// Schema 4 keys the links and titles indexes by a hash of the link or
// title key (indexHash) instead of the whole text, which made their keys
// about as long as the item: an entry is TEXT_HASH TIME SOURCE_ID 0 ITEM_ID.
// Two texts can share a hash: readers check a candidate's own link or
// title (section.go). Schema 3's entries begin TEXT 0 instead.

// indexHashSize is the length of an index key's TEXT_HASH.
const indexHashSize = 8

// appendIndexHash appends the hash of s (textHash), big-endian.
func appendIndexHash(b []byte, s string) []byte {
	return binary.BigEndian.AppendUint64(b, textHash(s))
}

// textHash is the hash index keys begin with; a variable so that a test
// can make every text collide.
var textHash = fnv64a

// fnv64a is the 64-bit FNV-1a hash of s: stable across releases, as the
// keys of a file outlive the binary that wrote them.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// indexPrefix is what every entry of text in the links or titles index
// begins with: its hash (schema 4), or the text and a 0 (schema 3).
func indexPrefix(text string, hashed bool) []byte {
	if hashed {
		return appendIndexHash(nil, text)
	}
	return append([]byte(text), 0)
}

// indexKey is the links or titles index key of an item: the prefix of
// text, then t (first seen for links, published for titles), the source
// id, a 0 and the item id.
func indexKey(text string, t time.Time, src, id string) []byte {
	k := appendIndexHash(make([]byte, 0, indexHashSize+8+len(src)+1+len(id)), text)
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano())^(1<<63))
	return append(append(append(k, src...), 0), id...)
}

func linkKey(link string, firstSeen time.Time, src, id string) []byte {
	return indexKey(link, firstSeen, src, id)
}

func titleIndexKey(title string, published time.Time, src, id string) []byte {
	return indexKey(title, published, src, id)
}

// getItem reads item id of source src from b, the source's items bucket.
func getItem(b *bbolt.Bucket, src, id string) (storedItem, bool, error) {
	v := b.Get([]byte(id))
	if v == nil {
		return storedItem{}, false, nil
	}
	it, err := decodeItem(src, []byte(id), v)
	if err != nil {
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
// source's duplicate by its link or title, which takes an id of nearly
// 32 KiB (the keys hold a hash of the text, but the whole id).
func fits(k []byte) bool { return len(k) <= bbolt.MaxKeySize }

// store.MaxStoredID must fit bbolt: an id that long, behind the 8 bytes of
// time of its time-index key, is still a bbolt key (this fails to compile
// otherwise).
var _ [bbolt.MaxKeySize - 8 - store.MaxStoredID]struct{}

// indexEntries are the links and titles index entries of item it of source
// src; nil for one it has none of (no link, a title too short to compare)
// or whose key cannot be a bbolt key.
func indexEntries(src string, it *storedItem) (link, title *entry) {
	if it.Link != "" {
		if k := linkKey(it.Link, it.FirstSeen, src, it.ID); fits(k) {
			link = &entry{k, nil}
		}
	}
	if t := store.TitleKey(it.Title); t != "" {
		if k := titleIndexKey(t, it.Published, src, it.ID); fits(k) {
			title = &entry{k, timeBytes(it.FirstSeen)}
		}
	}
	return link, title
}

// appendIndexEntries appends it's index entries (indexEntries) to links
// and titles.
func appendIndexEntries(links, titles []entry, src string, it *storedItem) ([]entry, []entry) {
	link, title := indexEntries(src, it)
	if link != nil {
		links = append(links, *link)
	}
	if title != nil {
		titles = append(titles, *title)
	}
	return links, titles
}
