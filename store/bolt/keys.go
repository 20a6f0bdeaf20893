package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
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
const schemaVersion = 6

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
// title key instead of the whole text, which made their keys about as long
// as the item: an entry is HASH TIME SOURCE_ID 0 ITEM_ID. Two texts can
// share a hash: readers check a candidate's own link or title (section.go).
// Schema 3's entries begin TEXT 0 instead.
//
// A link's hash begins with its site's (linkHash), so the new items of one
// source, whose links share a site, land on the same few pages of links as
// whole links did: a fetch rewrites those pages, not one page per item.

// indexHashSize is the length of an index key's HASH.
const indexHashSize = 8

// textHash is the hash of a text; a variable so that a test can make every
// text collide.
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

// linkHash is a link's HASH: 32 bits of its site's hash (scheme and host),
// then 32 bits of its own.
func linkHash(link string) uint64 {
	site := link
	if i := strings.Index(link, "://"); i >= 0 {
		if j := strings.IndexByte(link[i+3:], '/'); j >= 0 {
			site = link[:i+3+j]
		}
	}
	return textHash(site)<<32 | textHash(link)&(1<<32-1)
}

// indexPrefix is what every entry of a link (link true) or title key in
// its index begins with: its HASH (schema 4), or the text and a 0
// (schema 3).
func indexPrefix(text string, link, hashed bool) []byte {
	switch {
	case !hashed:
		return append([]byte(text), 0)
	case link:
		return binary.BigEndian.AppendUint64(nil, linkHash(text))
	}
	return binary.BigEndian.AppendUint64(nil, textHash(text))
}

// indexKey is a links or titles index key: HASH, then t (first seen for
// links, published for titles), the source id, a 0 and the item id.
func indexKey(hash uint64, t time.Time, src, id string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, indexHashSize+8+len(src)+1+len(id)), hash)
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano())^(1<<63))
	return append(append(append(k, src...), 0), id...)
}

func linkKey(link string, firstSeen time.Time, src, id string) []byte {
	return indexKey(linkHash(link), firstSeen, src, id)
}

func titleIndexKey(title string, published time.Time, src, id string) []byte {
	return indexKey(textHash(title), published, src, id)
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
