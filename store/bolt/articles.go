package bolt

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// Full article text (issue 13), the store contract's article methods
// (store/articles.go) on bbolt. The fetcher's article pass calls
// ArticlesDue and SaveArticle, status calls ArticleStats, refetch-text
// Articles, Article and ArticlePage. Schema 5 keeps them beside the items:
//
//	articles / SOURCE_ID  ITEM_ID -> article record (articlerecord.go)
//	pages / SOURCE_ID     ITEM_ID -> s2(the decoded UTF-8 page)
//
// A source gets these buckets with its first article, so a source without
// full text has none, and its reads pay one nil-bucket check. SaveFetch
// never reads or writes an article; pruning and purging delete an item's
// article and page with it (ingest.go, purge.go).

var (
	bucketArticles = []byte("articles")
	bucketPages    = []byte("pages")
)

// SaveArticle stores the article record of a stored item and, when page
// is not nil, its page: an empty page, or one over store.MaxArticlePage,
// forgets the stored one. newsdesk.ErrNotFound when the item is not stored.
func (db *DB) SaveArticle(a newsdesk.Article, page []byte) error {
	if a.SourceID == "" || a.ItemID == "" {
		return errors.New("save article: empty source or item id")
	}
	rec, err := encodeArticle(&a)
	if err != nil {
		return fmt.Errorf("save article of item %.80q of %s: %w", a.ItemID, a.SourceID, err)
	}
	var stored []byte
	if len(page) > 0 && len(page) <= store.MaxArticlePage {
		stored = s2.Encode(nil, page)
	}
	id := []byte(a.ItemID)
	err = db.commit(1, func(tx *bbolt.Tx) error {
		if items := nested(tx, bucketItems, a.SourceID); items == nil || items.Get(id) == nil {
			return newsdesk.ErrNotFound
		}
		arts, err := createNested(tx, bucketArticles, a.SourceID)
		if err != nil {
			return err
		}
		if err := arts.Put(id, rec); err != nil {
			return err
		}
		switch {
		case page == nil:
			return nil
		case stored == nil:
			if pages := nested(tx, bucketPages, a.SourceID); pages != nil {
				return pages.Delete(id)
			}
			return nil
		}
		pages, err := createNested(tx, bucketPages, a.SourceID)
		if err != nil {
			return err
		}
		return pages.Put(id, stored)
	})
	if err != nil {
		return fmt.Errorf("save article of item %.80q of %s: %w", a.ItemID, a.SourceID, err)
	}
	return nil
}

// createNested is the bucket of id under the top-level bucket name, made
// if needed.
func createNested(tx *bbolt.Tx, name []byte, id string) (*bbolt.Bucket, error) {
	top := tx.Bucket(name)
	if top == nil {
		return nil, fmt.Errorf("bucket %s is missing", name)
	}
	return top.CreateBucketIfNotExists([]byte(id))
}

// Article returns an item's article record, or newsdesk.ErrNotFound.
func (db *DB) Article(sourceID, itemID string) (newsdesk.Article, error) {
	var a newsdesk.Article
	err := db.view(func(tx *bbolt.Tx) error {
		v := nestedGet(tx, bucketArticles, sourceID, itemID)
		if v == nil {
			return newsdesk.ErrNotFound
		}
		h, err := decodeArticleHead(v)
		if err == nil {
			a, err = h.article(sourceID, itemID)
		}
		return err
	})
	if err != nil {
		return newsdesk.Article{}, fmt.Errorf("article of item %.80q of %s: %w", itemID, sourceID, err)
	}
	return a, nil
}

// ArticlePage returns the page an item's article was extracted from, or
// newsdesk.ErrNotFound when none is kept.
func (db *DB) ArticlePage(sourceID, itemID string) ([]byte, error) {
	var page []byte
	err := db.view(func(tx *bbolt.Tx) error {
		v := nestedGet(tx, bucketPages, sourceID, itemID)
		if v == nil {
			return newsdesk.ErrNotFound
		}
		var err error
		page, err = decompress(v, store.MaxArticlePage)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("article page of item %.80q of %s: %w", itemID, sourceID, err)
	}
	return page, nil
}

// nestedGet is key's value in the bucket of id under the top-level bucket
// name; nil when any is missing.
func nestedGet(tx *bbolt.Tx, name []byte, id, key string) []byte {
	if b := nested(tx, name, id); b != nil {
		return b.Get([]byte(key))
	}
	return nil
}

// Articles calls fn with each article record of a source, in item id
// order, until fn returns false.
func (db *DB) Articles(sourceID string, fn func(newsdesk.Article) bool) error {
	err := db.view(func(tx *bbolt.Tx) error {
		b := nested(tx, bucketArticles, sourceID)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			h, err := decodeArticleHead(v)
			var a newsdesk.Article
			if err == nil {
				a, err = h.article(sourceID, string(k))
			}
			if err != nil {
				return fmt.Errorf("item %.80q: %w", k, err)
			}
			if !fn(a) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("articles of %s: %w", sourceID, err)
	}
	return nil
}

// fillArticle sets it.Article to the HTML of its article when arts (its
// source's articles bucket, nil when the source has none) holds an
// ArticleOK record made for the item's link.
func fillArticle(arts *bbolt.Bucket, it *newsdesk.Item) error {
	if arts == nil {
		return nil
	}
	v := arts.Get([]byte(it.ID))
	if v == nil {
		return nil
	}
	h, err := decodeArticleHead(v)
	if err == nil && h.Status == newsdesk.ArticleOK && h.Link == it.Link {
		it.Article, err = h.html()
	}
	if err != nil {
		return fmt.Errorf("article of item %.80q of %s: %w", it.ID, it.SourceID, err)
	}
	return nil
}

// withArticle is a stored item with its article record's head (nil when
// it has none), as ArticlesDue and ArticleStats walk them.
type withArticle struct {
	src   string
	id, v []byte
	times [3]time.Time // published, updated, first seen
	link  *string      // nil until known
	art   *articleHead
}

// current reports whether the article record was made for the item's
// current link, decoding the item when its record does not say the link
// is its id.
func (w *withArticle) current() (bool, error) {
	if w.art == nil {
		return false, nil
	}
	if w.link == nil {
		it, err := decodeItem(w.src, w.id, w.v)
		if err != nil {
			return false, fmt.Errorf("item %.80q: %w", w.id, err)
		}
		w.link = &it.Link
	}
	return w.art.Link == *w.link, nil
}

func (w *withArticle) firstSeen() time.Time { return w.times[2] }

// walkArticles calls fn with each stored item of a source and its
// article head, reading the item's times without decoding its body.
func walkArticles(tx *bbolt.Tx, src string, fn func(*withArticle) error) error {
	items := nested(tx, bucketItems, src)
	if items == nil {
		return nil
	}
	arts := nested(tx, bucketArticles, src)
	return items.ForEach(func(k, v []byte) error {
		w := &withArticle{src: src, id: k, v: v}
		if err := w.peek(); err != nil {
			return err
		}
		if arts != nil {
			if av := arts.Get(k); av != nil {
				h, err := decodeArticleHead(av)
				if err != nil {
					return fmt.Errorf("article of item %.80q: %w", k, err)
				}
				w.art = &h
			}
		}
		return fn(w)
	})
}

// peek reads the item's times, and its link when the record says it is
// its id; a JSON record (schema 3) is decoded whole.
func (w *withArticle) peek() error {
	if len(w.v) > 0 && w.v[0] == recordV1 && len(w.v) >= 2 {
		d := decoder{b: w.v[2:]}
		w.times = d.times()
		if w.v[1]&flagLinkIsID != 0 {
			id := string(w.id)
			w.link = &id
		}
		if d.err != nil {
			return fmt.Errorf("item %.80q: %w", w.id, d.err)
		}
		return nil
	}
	it, err := decodeItem(w.src, w.id, w.v)
	if err != nil {
		return fmt.Errorf("item %.80q: %w", w.id, err)
	}
	w.times = [3]time.Time{it.Published, it.Updated, it.FirstSeen}
	w.link = &it.Link
	return nil
}

// ArticlesDue returns up to limit items of a source whose article the
// pass should fetch (store.Store), newest first seen first; ties newest
// published first, then by item id.
func (db *DB) ArticlesDue(sourceID string, since, now time.Time, limit int) ([]store.ArticleJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	var jobs []store.ArticleJob
	err := db.view(func(tx *bbolt.Tx) error {
		var due []*withArticle
		err := walkArticles(tx, sourceID, func(w *withArticle) error {
			ok, err := w.due(since, now)
			if ok {
				due = append(due, w)
			}
			return err
		})
		if err != nil {
			return err
		}
		slices.SortFunc(due, func(a, b *withArticle) int {
			if c := b.firstSeen().Compare(a.firstSeen()); c != 0 {
				return c
			}
			if c := b.times[0].Compare(a.times[0]); c != 0 {
				return c
			}
			return strings.Compare(string(a.id), string(b.id))
		})
		for _, w := range due[:min(limit, len(due))] {
			job, err := w.job()
			if err != nil {
				return err
			}
			jobs = append(jobs, job)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("articles due of %s: %w", sourceID, err)
	}
	return jobs, nil
}

// due reports whether the item's article should be fetched: it was first
// seen at or after since and has no record for its current link, or its
// record for it failed and is due again by now. It leaves w.art set only
// when it is that record (the job's Prev).
func (w *withArticle) due(since, now time.Time) (bool, error) {
	recent := !w.firstSeen().Before(since)
	if w.art == nil {
		return recent, nil
	}
	retry := w.art.Status == newsdesk.ArticleFailed && !w.art.NextTry.After(now)
	if !recent && !retry {
		return false, nil
	}
	current, err := w.current()
	if err != nil || !current {
		w.art = nil
		return recent, err
	}
	return retry, nil
}

// job decodes the item and its previous article.
func (w *withArticle) job() (store.ArticleJob, error) {
	it, err := decodeItem(w.src, w.id, w.v)
	if err != nil {
		return store.ArticleJob{}, fmt.Errorf("item %.80q: %w", w.id, err)
	}
	job := store.ArticleJob{Item: it.Item}
	if w.art != nil {
		prev, err := w.art.article(w.src, string(w.id))
		if err != nil {
			return job, fmt.Errorf("article of item %.80q: %w", w.id, err)
		}
		job.Prev = &prev
	}
	return job, nil
}

// ArticleStats counts a source's article records made for their item's
// current link, by status, and the items first seen at or after since
// that have none.
func (db *DB) ArticleStats(sourceID string, since time.Time) (store.ArticleStats, error) {
	var s store.ArticleStats
	err := db.view(func(tx *bbolt.Tx) error {
		return walkArticles(tx, sourceID, func(w *withArticle) error {
			current, err := w.current()
			if err != nil {
				return err
			}
			if !current {
				if !w.firstSeen().Before(since) {
					s.Missing++
				}
				return nil
			}
			return count(&s, w)
		})
	})
	if err != nil {
		return store.ArticleStats{}, fmt.Errorf("article counts of %s: %w", sourceID, err)
	}
	return s, nil
}

// count adds w's article record to s.
func count(s *store.ArticleStats, w *withArticle) error {
	switch w.art.Status {
	case newsdesk.ArticleOK:
		s.OK++
		return nil
	case newsdesk.ArticleFailed:
		s.Failed++
	case newsdesk.ArticleGaveUp:
		s.GaveUp++
	case newsdesk.ArticleDisallowed:
		s.Disallowed++
	case newsdesk.ArticleRefused:
		s.Refused++
	}
	if s.LastError != "" && !w.art.FetchedAt.After(s.LastErrorAt) {
		return nil
	}
	a, err := w.art.article(w.src, string(w.id))
	if err != nil {
		return fmt.Errorf("article of item %.80q: %w", w.id, err)
	}
	if a.Error != "" {
		s.LastError, s.LastErrorAt = a.Error, a.FetchedAt
	}
	return nil
}
