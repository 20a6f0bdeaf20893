package bolt

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

// migrateCompact is schema 3 to 4: every item's JSON becomes a record
// (record.go), and the links and titles indexes are rebuilt keyed by
// hashes (keys.go). Each source's items bucket is written anew in key
// order, and the indexes in key order too, so their pages come out full;
// the pages the old forms used are free for bbolt to reuse, and `newsdesk
// compact` returns them to the disk.
func migrateCompact(tx *bbolt.Tx) error {
	items := tx.Bucket(bucketItems)
	var sources [][]byte
	if err := items.ForEachBucket(func(src []byte) error {
		sources = append(sources, src)
		return nil
	}); err != nil {
		return err
	}
	var links, titles []entry
	for _, src := range sources {
		var err error
		if links, titles, err = recodeSource(items, string(src), links, titles); err != nil {
			return err
		}
	}
	for _, idx := range []struct {
		name    []byte
		entries []entry
	}{{bucketLinks, links}, {bucketTitles, titles}} {
		if err := tx.DeleteBucket(idx.name); err != nil {
			return err
		}
		b, err := tx.CreateBucket(idx.name)
		if err != nil {
			return err
		}
		b.FillPercent = 1
		if err := putSorted(b, idx.entries); err != nil {
			return err
		}
	}
	return nil
}

// recodeSource writes the items of source src anew as records, and
// appends their index entries to links and titles.
func recodeSource(items *bbolt.Bucket, src string, links, titles []entry) ([]entry, []entry, error) {
	var recoded []entry
	err := items.Bucket([]byte(src)).ForEach(func(k, v []byte) error {
		it, err := decodeItem(src, k, v)
		if err != nil {
			return fmt.Errorf("item %q of %s: %w", k, src, err)
		}
		it.ID = string(k) // the key is the item's id
		data, err := encodeItem(&it)
		if err != nil {
			return fmt.Errorf("item %q of %s: %w", k, src, err)
		}
		recoded = append(recoded, entry{[]byte(it.ID), data})
		links, titles = appendIndexEntries(links, titles, src, &it)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if err := items.DeleteBucket([]byte(src)); err != nil {
		return nil, nil, err
	}
	b, err := items.CreateBucket([]byte(src))
	if err != nil {
		return nil, nil, err
	}
	b.FillPercent = 1
	return links, titles, putSorted(b, recoded)
}
