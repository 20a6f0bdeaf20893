package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/newsdesk/newsdesk"
	bbolt "go.etcd.io/bbolt"
)

// State returns the fetch state of a source, or newsdesk.ErrNotFound when it
// was never fetched.
func (db *DB) State(sourceID string) (newsdesk.FetchState, error) {
	var st newsdesk.FetchState
	err := db.view(func(tx *bbolt.Tx) error {
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
	err := db.view(func(tx *bbolt.Tx) error {
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
	err := db.view(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketCounts).Get([]byte(sourceID)); len(v) == 8 {
			n = int(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count items of %s: %w", sourceID, err)
	}
	return n, nil
}

// Item returns one stored item, with its article (Item.Article).
func (db *DB) Item(sourceID, itemID string) (newsdesk.Item, error) {
	var it storedItem
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketItems).Bucket([]byte(sourceID))
		if b == nil {
			return newsdesk.ErrNotFound
		}
		var found bool
		var err error
		it, found, err = getItem(b, sourceID, itemID)
		if err == nil && !found {
			err = newsdesk.ErrNotFound
		}
		if err != nil {
			return err
		}
		return fillArticle(nested(tx, bucketArticles, sourceID), &it.Item)
	})
	if err != nil {
		return newsdesk.Item{}, fmt.Errorf("item %s of %s: %w", itemID, sourceID, err)
	}
	return it.Item, nil
}

// Items calls fn with each stored item of a source, with its article, in
// id order, until fn returns false.
func (db *DB) Items(sourceID string, fn func(newsdesk.Item) bool) error {
	return db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketItems).Bucket([]byte(sourceID))
		if b == nil {
			return nil
		}
		arts := nested(tx, bucketArticles, sourceID)
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			it, err := decodeItem(sourceID, k, v)
			if err != nil {
				return fmt.Errorf("item %q of %s: %w", k, sourceID, err)
			}
			if err := fillArticle(arts, &it.Item); err != nil {
				return err
			}
			if !fn(it.Item) {
				return nil
			}
		}
		return nil
	})
}
