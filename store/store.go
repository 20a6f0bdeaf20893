// Package store keeps newsdesk's sources' fetch state and items in one bbolt
// file. It is the only package that imports bbolt.
//
// Bucket layout (all keys and values are bytes; JSON values):
//
//	meta                      "schema" -> "1"
//	state                     SOURCE_ID -> FetchState (JSON)
//	items / SOURCE_ID         ITEM_ID -> Item (JSON)
//	bytime / SOURCE_ID        TIME(8) ITEM_ID -> nil
//
// TIME is the item's Published time as Unix nanoseconds with the sign bit
// flipped, big-endian, so keys sort by time for dates before and after 1970
// alike. The newest items of a set of sources come from walking each source's
// bytime bucket backwards and merging, so a section read costs what it
// returns, not what is stored.
//
// A fetch's items and the source's new fetch state are written in a single
// transaction (SaveFetch): a crash can never keep a validator whose items
// were lost. The store must not do network I/O or hold a transaction open
// across it: callers fetch first and save after.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/newsdesk/newsdesk"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketMeta   = []byte("meta")
	bucketState  = []byte("state")
	bucketItems  = []byte("items")
	bucketByTime = []byte("bytime")
	keySchema    = []byte("schema")
)

const schemaVersion = "1"

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("database is locked by another process")

// DB is an open newsdesk database.
type DB struct {
	bolt *bolt.DB
	path string
}

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// file. Zero means do not wait.
	LockTimeout time.Duration
	ReadOnly    bool
}

// Open opens (creating it and its folder if needed) the database at path.
func Open(path string, opts Options) (*DB, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		// bbolt treats 0 as "wait forever"; the smallest wait is the closest
		// to "do not wait" it offers.
		timeout = 50 * time.Millisecond
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open database %s: %w (is `newsdesk serve` or another `newsdesk run` using it? stop it, or wait for it to finish)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path}
	if opts.ReadOnly {
		return db, nil
	}
	err = b.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(keySchema); v != nil && string(v) != schemaVersion {
			return fmt.Errorf("schema version %q, this newsdesk reads %q: use a matching newsdesk version", v, schemaVersion)
		}
		if err := meta.Put(keySchema, []byte(schemaVersion)); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketState, bucketItems, bucketByTime} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the database, waiting for running transactions to finish.
func (db *DB) Close() error { return db.bolt.Close() }

// Ping reports whether the database answers a read.
func (db *DB) Ping() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("database has no meta bucket")
		}
		return nil
	})
}

// storedItem is an item as kept on disk. Dated records whether the feed gave
// the item a date of its own, so that a re-fetch of an undated item keeps its
// first-seen date instead of looking changed.
type storedItem struct {
	newsdesk.Item
	Dated bool `json:",omitempty"`
}

// SaveFetch stores the items of one fetch of st.SourceID and the source's new
// fetch state, in one transaction. New items get FirstSeen = st.LastFetch;
// items without a date (zero Published) are dated by their first-seen time.
// An item already stored is updated in place when anything about it changed;
// its FirstSeen stays, and its Updated moves to the fetch time when the feed
// did not move it. The returned state has New and Updated filled in.
func (db *DB) SaveFetch(st newsdesk.FetchState, items []newsdesk.Item) (newsdesk.FetchState, error) {
	if st.SourceID == "" {
		return st, errors.New("save fetch: empty source id")
	}
	st.New, st.Updated = 0, 0
	now := st.LastFetch.UTC()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		ib, err := tx.Bucket(bucketItems).CreateBucketIfNotExists([]byte(st.SourceID))
		if err != nil {
			return err
		}
		tb, err := tx.Bucket(bucketByTime).CreateBucketIfNotExists([]byte(st.SourceID))
		if err != nil {
			return err
		}
		for i := range items {
			it := items[i]
			if it.ID == "" {
				continue
			}
			it.SourceID = st.SourceID
			it.Published, it.Updated = it.Published.UTC(), it.Updated.UTC()
			rec := storedItem{Item: it, Dated: !it.Published.IsZero()}
			old, found, err := getItem(ib, it.ID)
			if err != nil {
				return err
			}
			if !found {
				rec.FirstSeen = now
				if !rec.Dated {
					rec.Published = now
				}
				if rec.Updated.IsZero() || rec.Updated.Before(rec.Published) {
					rec.Updated = rec.Published
				}
				if err := putItem(ib, tb, rec, nil); err != nil {
					return err
				}
				st.New++
				continue
			}
			rec.FirstSeen = old.FirstSeen
			if !rec.Dated {
				rec.Published = old.Published
			}
			if rec.Updated.IsZero() || rec.Updated.Before(rec.Published) {
				rec.Updated = rec.Published
			}
			if !rec.Updated.After(old.Updated) {
				rec.Updated = old.Updated
			}
			if sameItem(rec, old) {
				continue
			}
			if !rec.Updated.After(old.Updated) {
				rec.Updated = now
			}
			if err := putItem(ib, tb, rec, &old); err != nil {
				return err
			}
			st.Updated++
		}
		return putJSON(tx.Bucket(bucketState), []byte(st.SourceID), st)
	})
	if err != nil {
		return st, fmt.Errorf("save fetch of %s: %w", st.SourceID, err)
	}
	return st, nil
}

// SaveState stores a source's fetch state alone: a 304 or a failed fetch.
func (db *DB) SaveState(st newsdesk.FetchState) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketState), []byte(st.SourceID), st)
	})
	if err != nil {
		return fmt.Errorf("save state of %s: %w", st.SourceID, err)
	}
	return nil
}

// State returns the fetch state of a source, or newsdesk.ErrNotFound when it
// was never fetched.
func (db *DB) State(sourceID string) (newsdesk.FetchState, error) {
	var st newsdesk.FetchState
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketState).Get([]byte(sourceID))
		if v == nil {
			return newsdesk.ErrNotFound
		}
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return st, fmt.Errorf("state of %s: %w", sourceID, err)
	}
	return st, nil
}

// States returns the fetch state of every source that has one, by id.
func (db *DB) States() ([]newsdesk.FetchState, error) {
	var out []newsdesk.FetchState
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketState).ForEach(func(k, v []byte) error {
			var st newsdesk.FetchState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("state of %s: %w", k, err)
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("states: %w", err)
	}
	return out, nil
}

// CountItems returns how many items of a source are stored.
func (db *DB) CountItems(sourceID string) (int, error) {
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketItems).Bucket([]byte(sourceID)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count items of %s: %w", sourceID, err)
	}
	return n, nil
}

// Item returns one stored item.
func (db *DB) Item(sourceID, itemID string) (newsdesk.Item, error) {
	var it storedItem
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketItems).Bucket([]byte(sourceID))
		if b == nil {
			return newsdesk.ErrNotFound
		}
		var found bool
		var err error
		it, found, err = getItem(b, itemID)
		if err == nil && !found {
			err = newsdesk.ErrNotFound
		}
		return err
	})
	if err != nil {
		return newsdesk.Item{}, fmt.Errorf("item %s of %s: %w", itemID, sourceID, err)
	}
	return it.Item, nil
}

// Recent returns up to limit items of the given sources, newest first by
// Published (ties by source id, then item id), skipping those keep rejects
// (keep may be nil). It walks each source's time index from the newest end
// and merges, so it reads about as many items as it returns.
func (db *DB) Recent(sourceIDs []string, keep func(*newsdesk.Item) bool, limit int) ([]newsdesk.Item, error) {
	var out []newsdesk.Item
	if limit <= 0 {
		return out, nil
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		type head struct {
			src   string
			items *bolt.Bucket
			c     *bolt.Cursor
			key   []byte
		}
		var heads []*head
		for _, id := range dedupe(sourceIDs) {
			tb := tx.Bucket(bucketByTime).Bucket([]byte(id))
			ib := tx.Bucket(bucketItems).Bucket([]byte(id))
			if tb == nil || ib == nil {
				continue
			}
			h := &head{src: id, items: ib, c: tb.Cursor()}
			if h.key, _ = h.c.Last(); h.key != nil {
				heads = append(heads, h)
			}
		}
		for len(out) < limit && len(heads) > 0 {
			best := 0
			for i := 1; i < len(heads); i++ {
				if newer(heads[i].key, heads[i].src, heads[best].key, heads[best].src) {
					best = i
				}
			}
			h := heads[best]
			rec, found, err := getItem(h.items, string(h.key[8:]))
			if err != nil {
				return err
			}
			if found && (keep == nil || keep(&rec.Item)) {
				out = append(out, rec.Item)
			}
			if h.key, _ = h.c.Prev(); h.key == nil {
				heads = append(heads[:best], heads[best+1:]...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent items: %w", err)
	}
	return out, nil
}

// newer orders time-index keys for Recent: later time first, then smaller
// source id, then smaller item id.
func newer(a []byte, asrc string, b []byte, bsrc string) bool {
	if c := bytes.Compare(a[:8], b[:8]); c != 0 {
		return c > 0
	}
	if asrc != bsrc {
		return asrc < bsrc
	}
	return bytes.Compare(a[8:], b[8:]) < 0
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// timeKey is the time-index key of an item: its sortable time, then its id.
func timeKey(t time.Time, id string) []byte {
	k := make([]byte, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano())^(1<<63))
	copy(k[8:], id)
	return k
}

func getItem(b *bolt.Bucket, id string) (storedItem, bool, error) {
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

// putItem writes an item and its time-index key, removing old's key when the
// item's time moved.
func putItem(ib, tb *bolt.Bucket, rec storedItem, old *storedItem) error {
	rec.Published = rec.Published.UTC()
	rec.Updated = rec.Updated.UTC()
	rec.FirstSeen = rec.FirstSeen.UTC()
	if old != nil && !old.Published.Equal(rec.Published) {
		if err := tb.Delete(timeKey(old.Published, old.ID)); err != nil {
			return err
		}
	}
	if err := putJSON(ib, []byte(rec.ID), rec); err != nil {
		return err
	}
	return tb.Put(timeKey(rec.Published, rec.ID), nil)
}

func sameItem(a, b storedItem) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}
