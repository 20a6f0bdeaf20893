package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// CheckFile checks the meta pages of the bbolt file at path with plain
// reads, as Open does before bbolt maps a file, without taking its lock:
// for a file another process holds. It returns the fault that makes the
// file unsafe to open ("" if none) and notes on what bbolt tolerates.
func CheckFile(path string) (fault string, notes []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	info, err := checkFile(f)
	return info.fault, info.notes, err
}

// Verify checks the database file at path: its meta pages with plain
// reads, then every page with bbolt's consistency check (Tx.Check), then
// newsdesk's own invariants (the schema, each source's item count, the
// indexes pointing at stored items, records that decode, articles and
// pages of stored items). What it finds
// wrong is in the report's Faults; an error means it could not check
// (store.ErrLocked while another process writes the file).
//
// Tx.Check reads the file in a goroutine of its own, where a memory fault
// on a badly damaged page cannot be recovered and ends the process: run
// Verify in a child process and treat its crash as damage, as `newsdesk
// verify` does.
func Verify(path string) (*store.Report, error) {
	r := &store.Report{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	if err := lockFile(f, false, 50*time.Millisecond); err != nil {
		_, holder := LockHolder(path)
		return nil, &lockedError{path: path, holder: holder}
	}
	info, err := checkFile(f)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	r.Size, r.PageSize, r.Notes = info.size, info.pageSize, info.notes
	if info.meta != nil {
		r.Pages, r.Txid = info.meta.pgid, info.meta.txid
	}
	if info.fault != "" {
		r.Fault("%s", info.fault)
		return r, nil
	}
	b, file, err := openBolt(path, Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	db := &DB{bdb: b, path: path, health: &health{file: file}}
	defer db.Close()
	err = db.view(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			r.Fault("bbolt: %v", err)
		}
		return nil
	})
	if err != nil {
		r.Fault("%v", err)
		return r, nil
	}
	if err := db.view(func(tx *bbolt.Tx) error { return invariants(tx, r) }); err != nil {
		r.Fault("%v", err)
	}
	return r, nil
}

// invariants checks what newsdesk relies on beyond bbolt's structure:
// the schema and its buckets, then each part of the data in turn.
func invariants(tx *bbolt.Tx, r *store.Report) error {
	if !checkSchema(tx, r) {
		return nil
	}
	sources := map[string]bool{}
	checkStates(tx, r, sources)
	tx.Bucket(bucketItems).ForEachBucket(func(src []byte) error {
		sources[string(src)] = true
		checkSource(tx, r, src)
		return nil
	})
	r.Sources = len(sources)
	checkIndexes(tx, r)
	checkEdits(tx, r)
	checkArticles(tx, r)
	checkWebSub(tx, r)
	return nil
}

// checkArticles checks that every article record and kept page decodes
// and belongs to a stored item (pruning and purging delete them with it).
func checkArticles(tx *bbolt.Tx, r *store.Report) {
	for _, kind := range []struct {
		name   string
		bucket []byte
		decode func(src, id, v []byte) error
	}{
		{"article", bucketArticles, func(src, id, v []byte) error {
			h, err := decodeArticleHead(v)
			if err == nil {
				_, err = h.article(string(src), string(id))
			}
			return err
		}},
		{"article page", bucketPages, func(_, _, v []byte) error {
			_, err := decompress(v, store.MaxArticlePage)
			return err
		}},
	} {
		top := tx.Bucket(kind.bucket)
		if top == nil { // schema 4 and older
			continue
		}
		top.ForEachBucket(func(src []byte) error {
			items := tx.Bucket(bucketItems).Bucket(src)
			return top.Bucket(src).ForEach(func(id, v []byte) error {
				if err := kind.decode(src, id, v); err != nil {
					r.Fault("%s of item %q of %s does not decode: %v", kind.name, id, src, err)
				}
				if items == nil || items.Get(id) == nil {
					r.Fault("%s of item %q of %s: the item is not stored (pruning or a purge should have removed it)", kind.name, id, src)
				}
				return nil
			})
		})
	}
}

// checkSchema records the file's schema version and checks that its
// buckets are there; false when the data cannot be checked further.
func checkSchema(tx *bbolt.Tx, r *store.Report) bool {
	db := &DB{path: r.Path}
	version, found, err := db.schemaOf(tx)
	switch {
	case err != nil:
		r.Fault("%v", err)
		return false
	case !found:
		r.Fault("no schema version: this is not a newsdesk database, or its meta bucket is lost")
		return false
	case version > schemaVersion:
		r.Notes = append(r.Notes, fmt.Sprintf("schema %d is newer than this newsdesk's %d: only bbolt's structure was checked", version, schemaVersion))
		return false
	case version < schemaVersion:
		r.Notes = append(r.Notes, fmt.Sprintf("schema %d: the next newsdesk command that writes migrates it to %d", version, schemaVersion))
	}
	r.Schema = version
	want := baseBuckets
	if version >= 3 {
		want = append(slices.Clone(want), []byte(schema3Sections))
	}
	if version >= 5 {
		want = append(want, bucketArticles, bucketPages)
	}
	if version >= 6 {
		want = append(want, bucketHubSubs, bucketPushSubs)
	}
	for _, name := range want {
		if tx.Bucket(name) == nil {
			r.Fault("bucket %q is missing", name)
		}
	}
	return len(r.Faults) == 0
}

// checkStates checks that every fetch state decodes, and adds its source
// to sources.
func checkStates(tx *bbolt.Tx, r *store.Report, sources map[string]bool) {
	tx.Bucket(bucketState).ForEach(func(k, v []byte) error {
		sources[string(k)] = true
		var st newsdesk.FetchState
		if err := json.Unmarshal(v, &st); err != nil {
			r.Fault("fetch state of %s does not decode: %v", k, err)
		}
		return nil
	})
}

// checkSource checks one source's items: that they decode, that its count
// is theirs, that its time index points at them and only them; and counts
// its items and tombstones.
func checkSource(tx *bbolt.Tx, r *store.Report, src []byte) {
	ib, tb := tx.Bucket(bucketItems).Bucket(src), tx.Bucket(bucketByTime).Bucket(src)
	n := 0
	ib.ForEach(func(k, v []byte) error {
		n++
		if _, err := decodeItem(string(src), k, v); err != nil {
			r.Fault("item %q of %s does not decode: %v", k, src, err)
		} else if r.Schema >= 4 && v[0] == '{' {
			r.Fault("item %q of %s is JSON, which schema 4 no longer writes: its migration did not finish", k, src)
		}
		return nil
	})
	r.Items += n
	var stored uint64
	if v := tx.Bucket(bucketCounts).Get(src); len(v) == 8 {
		stored = binary.BigEndian.Uint64(v)
	}
	if stored != uint64(n) {
		r.Fault("source %s: its item count says %d, %d items are stored", src, stored, n)
	}
	if tb == nil {
		if n > 0 {
			r.Fault("source %s: %d items and no time index", src, n)
		}
		return
	}
	indexed := 0
	tb.ForEach(func(k, _ []byte) error {
		indexed++
		if len(k) < 8 || ib.Get(k[8:]) == nil {
			r.Fault("source %s: the time index points at item %q, which is not stored", src, safeKey(k, 8))
		}
		return nil
	})
	if indexed != n {
		r.Fault("source %s: %d items, %d time index entries", src, n, indexed)
	}
	if sb := tx.Bucket(bucketSeen).Bucket(src); sb != nil {
		r.Tombstones += sb.Stats().KeyN
	}
}

// checkIndexes checks that the link and title index entries are well
// formed and point at stored items; in schema 4, also that each is the
// entry its item has (its hash and time are the item's).
func checkIndexes(tx *bbolt.Tx, r *store.Report) {
	items := tx.Bucket(bucketItems)
	for _, idx := range []struct {
		name   string
		bucket []byte
		link   bool
	}{{"link", bucketLinks, true}, {"title", bucketTitles, false}} {
		tx.Bucket(idx.bucket).ForEach(func(k, _ []byte) error {
			// schema 4: TEXT_HASH TIME SOURCE 0 ITEM; schema 3: TEXT 0 TIME SOURCE 0 ITEM
			i := indexHashSize
			if r.Schema < 4 {
				i = bytes.IndexByte(k, 0) + 1
			}
			if i <= 0 || len(k) < i+8 {
				r.Fault("%s index entry %q is malformed", idx.name, k)
				return nil
			}
			src, id, ok := bytes.Cut(k[i+8:], []byte{0})
			ib := items.Bucket(src)
			var v []byte
			if ok && ib != nil {
				v = ib.Get(id)
			}
			if v == nil {
				r.Fault("the %s index points at item %q of %s, which is not stored", idx.name, id, src)
				return nil
			}
			if r.Schema < 4 {
				return nil
			}
			if it, err := decodeItem(string(src), id, v); err == nil && !ownEntry(&it, idx.link, k) {
				r.Fault("the %s index entry of item %q of %s is not the item's: its link, title or dates are not the ones indexed", idx.name, id, src)
			}
			return nil
		})
	}
}

// ownEntry reports whether k is it's link (or title) index entry.
func ownEntry(it *storedItem, link bool, k []byte) bool {
	l, t := indexEntries(it.SourceID, it)
	if link {
		return l != nil && bytes.Equal(l.k, k)
	}
	return t != nil && bytes.Equal(t.k, k)
}

// checkEdits checks that every editorial decision decodes, and counts them.
func checkEdits(tx *bbolt.Tx, r *store.Report) {
	edits := tx.Bucket(bucketEdits)
	edits.ForEachBucket(func(section []byte) error {
		return edits.Bucket(section).ForEach(func(k, v []byte) error {
			r.Decisions++
			var e store.Edit
			if err := json.Unmarshal(v, &e); err != nil {
				r.Fault("editorial decision %q in section %s does not decode: %v", k, section, err)
			}
			return nil
		})
	})
}

func safeKey(k []byte, from int) []byte {
	if len(k) < from {
		return k
	}
	return k[from:]
}

// Snapshot writes a consistent copy of the open database beside it, for
// Verify to check in a child process while this one keeps the file, and
// returns its path; the caller removes it (a later Open removes one left
// by a killed process).
func (db *DB) Snapshot() (string, error) {
	path, err := db.copyTemp(tempVerify)
	if err != nil {
		return "", fmt.Errorf("copy %s to verify it: %w", db.path, err)
	}
	return path, nil
}

// checkWebSub checks that every WebSub subscription decodes and is stored
// under its own key, and counts them. Faults name a hub subscription by
// its callback's host: its topic and callback may hold tokens.
func checkWebSub(tx *bbolt.Tx, r *store.Report) {
	if b := tx.Bucket(bucketHubSubs); b != nil {
		n := 0
		b.ForEach(func(k, v []byte) error {
			n++
			var s newsdesk.HubSubscription
			if err := json.Unmarshal(v, &s); err != nil {
				r.Fault("hub subscription %d does not decode: %v", n, err)
			} else if !bytes.Equal(k, hubKey(s.Topic, s.Callback)) {
				r.Fault("hub subscription %d (callback at %s) is not stored under its topic and callback", n, store.Redact(s.Callback))
			}
			return nil
		})
		r.WebSub += n
	}
	if b := tx.Bucket(bucketPushSubs); b != nil {
		b.ForEach(func(k, v []byte) error {
			r.WebSub++
			var p newsdesk.PushSubscription
			if err := json.Unmarshal(v, &p); err != nil {
				r.Fault("push subscription of %s does not decode: %v", safeKey(k, 0), err)
			} else if p.SourceID != string(k) {
				r.Fault("push subscription of %s names source %s", safeKey(k, 0), safeKey([]byte(p.SourceID), 0))
			}
			return nil
		})
	}
}
