package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Full article text (issue 13) in PostgreSQL: the table articles
// (migration 4), one row per item keyed like it, which the fetcher's
// article pass writes (SaveArticle), asks for work (ArticlesDue) and
// status counts (ArticleStats); refetch-text reads the records and pages
// (Articles, ArticlePage). The rows hang off their items by a foreign key
// that cascades, so retention pruning and purge remove them with their
// items. Reads of items (Item, Items, Section) join the html of an 'ok'
// row made for the item's current link (articleJoin), never the page.

// articleJoin joins to items i the html of the article (a.html) each
// shows: extracted, and made for the item's link as it is now; NULL when
// there is none. A lateral join whose LIMIT keeps the planner from
// flattening it into a hash join over the whole table: it probes the
// primary key of articles once per item read, so a read costs the same
// whatever the other sources' articles.
const articleJoin = `LEFT JOIN LATERAL (SELECT a.html FROM articles a WHERE a.source_id = i.source_id AND a.id_hash = i.id_hash
	AND a.status = 'ok' AND a.link_hash IS NOT DISTINCT FROM i.link_hash LIMIT 1) a ON true`

// fkViolation is PostgreSQL's foreign_key_violation: the item is not stored.
const fkViolation = "23503"

// SaveArticle stores the article record of a stored item, replacing the
// one it had, and the page it came from when page is not nil (an empty
// page, or one over store.MaxArticlePage, forgets the stored one). It
// never touches the item or the source's state; it marks the source
// changed (Changes, Listen) so that other instances render its sections
// again. The source's row is locked before the item's, in SaveFetch's
// order, so that a SaveFetch pruning the item cannot deadlock with it.
func (db *DB) SaveArticle(a newsdesk.Article, page []byte) error {
	row, err := articleRow(a, page)
	if err != nil {
		return fmt.Errorf("save article of %s in %s: %w", a.ItemID, a.SourceID, err)
	}
	err = db.tx(func(ctx context.Context, tx pgx.Tx) error {
		var changed int
		if err := tx.QueryRow(ctx, `WITH w AS (UPDATE sources SET changed_seq = `+xactSeq+` WHERE source_id = $1 RETURNING changed_seq)
			SELECT count(pg_notify('`+channel+`', changed_seq::text)) FROM w`, a.SourceID).Scan(&changed); err != nil {
			return err
		}
		if changed == 0 {
			return newsdesk.ErrNotFound
		}
		_, err := tx.Exec(ctx, `INSERT INTO articles (source_id, id_hash, link_hash, status, attempts, next_try_ns, fetched_ns, html, data, page)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (source_id, id_hash) DO UPDATE SET link_hash = excluded.link_hash, status = excluded.status,
				attempts = excluded.attempts, next_try_ns = excluded.next_try_ns, fetched_ns = excluded.fetched_ns,
				html = excluded.html, data = excluded.data, page = CASE WHEN $11 THEN excluded.page ELSE articles.page END`,
			append(row, page != nil)...)
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == fkViolation {
			return newsdesk.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("save article of %s in %s: %w", a.ItemID, a.SourceID, err)
	}
	return nil
}

// articleCols are the columns of an articles row, as articleRow gives them.
var articleCols = []string{"source_id", "id_hash", "link_hash", "status", "attempts", "next_try_ns", "fetched_ns", "html", "data", "page"}

// articleRow is the row of a record and the page it came from: data is
// the record but its HTML (in html), times in UTC; the page is NULL when
// it is empty or over store.MaxArticlePage.
func articleRow(a newsdesk.Article, page []byte) ([]any, error) {
	rec := a
	rec.HTML = ""
	rec.NextTry, rec.FetchedAt = a.NextTry.UTC(), a.FetchedAt.UTC()
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if len(page) == 0 || len(page) > store.MaxArticlePage {
		page = nil
	}
	return []any{a.SourceID, hash(a.ItemID), orNil(a.Link), string(a.Status), a.Attempts, nsOrNil(a.NextTry), nsOrNil(a.FetchedAt),
		a.HTML, string(data), page}, nil
}

// decodeArticle is the record of a row's data and html.
func decodeArticle(data []byte, html string) (newsdesk.Article, error) {
	var a newsdesk.Article
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("article record: %w", err)
	}
	a.HTML = html
	return a, nil
}

// nsOrNil is ns(t), or nil (SQL NULL) for the zero time.
func nsOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := ns(t)
	return &n
}

// Article returns an item's article record, or newsdesk.ErrNotFound.
func (db *DB) Article(sourceID, itemID string) (newsdesk.Article, error) {
	ctx, cancel := call()
	defer cancel()
	var data []byte
	var html string
	err := db.pool.QueryRow(ctx, `SELECT data, html FROM articles WHERE source_id = $1 AND id_hash = $2`, sourceID, hash(itemID)).Scan(&data, &html)
	if errors.Is(err, pgx.ErrNoRows) {
		err = newsdesk.ErrNotFound
	}
	var a newsdesk.Article
	if err == nil {
		a, err = decodeArticle(data, html)
	}
	if err != nil {
		return newsdesk.Article{}, fmt.Errorf("article of %s in %s: %w", itemID, sourceID, err)
	}
	return a, nil
}

// ArticlePage returns the page an item's article was extracted from, or
// newsdesk.ErrNotFound when none is kept.
func (db *DB) ArticlePage(sourceID, itemID string) ([]byte, error) {
	ctx, cancel := call()
	defer cancel()
	var page []byte
	err := db.pool.QueryRow(ctx, `SELECT page FROM articles WHERE source_id = $1 AND id_hash = $2 AND page IS NOT NULL`, sourceID, hash(itemID)).Scan(&page)
	if errors.Is(err, pgx.ErrNoRows) {
		err = newsdesk.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("article page of %s in %s: %w", itemID, sourceID, err)
	}
	return page, nil
}

// The conditions on items i and their record for the current link a
// (linkJoin: NULL when there is none; an item without a link and a record
// made for none match, as the bbolt engine compares the strings): an item
// new since $2 without one (ArticlesDue, ArticleStats' Missing), one whose
// failed record is due again at $3 (ArticlesDue).
const (
	dueNew    = `a.source_id IS NULL AND i.first_seen_ns >= $2`
	dueFailed = `a.status = 'failed' AND a.next_try_ns <= $3`
	linkJoin  = `a.source_id = i.source_id AND a.id_hash = i.id_hash AND a.link_hash IS NOT DISTINCT FROM i.link_hash`
)

// ArticlesDue returns, in one query, up to limit items of a source whose
// article the pass should fetch, newest first seen first: those first
// seen at or after since with no record for their link, and those whose
// record for their link failed and is due at now. Only a full-text
// source's pass asks; it reads the source's items from its primary key
// (not their page, which only ArticlePage reads).
func (db *DB) ArticlesDue(sourceID string, since, now time.Time, limit int) ([]store.ArticleJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := call()
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT i.data, a.data, a.html FROM items i LEFT JOIN articles a ON `+linkJoin+`
		WHERE i.source_id = $1 AND ((`+dueNew+`) OR (`+dueFailed+`))
		ORDER BY i.first_seen_ns DESC, i.published_ns DESC, i.item_id DESC LIMIT $4`, sourceID, ns(since), ns(now), limit)
	if err != nil {
		return nil, fmt.Errorf("articles due in %s: %w", sourceID, err)
	}
	var out []store.ArticleJob
	for rows.Next() {
		var item, prev []byte
		var html *string
		if err := rows.Scan(&item, &prev, &html); err != nil {
			return nil, fmt.Errorf("articles due in %s: %w", sourceID, err)
		}
		var it storedItem
		if err := json.Unmarshal(item, &it); err != nil {
			return nil, fmt.Errorf("articles due in %s: item: %w", sourceID, err)
		}
		job := store.ArticleJob{Item: it.Item}
		if prev != nil {
			a, err := decodeArticle(prev, *html)
			if err != nil {
				return nil, fmt.Errorf("articles due in %s: %w", sourceID, err)
			}
			job.Prev = &a
		}
		out = append(out, job)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("articles due in %s: %w", sourceID, err)
	}
	return out, nil
}

// ArticleStats counts, in one query, a source's article records made for
// their item's current link by status, with the most recent failure among
// them, and the items first seen at or after since that have no record
// for their link. A record for a link the item no longer has is the
// item's past: the item is Missing again.
func (db *DB) ArticleStats(sourceID string, since time.Time) (store.ArticleStats, error) {
	ctx, cancel := call()
	defer cancel()
	var s store.ArticleStats
	var lastErr *string
	var lastAt *int64
	err := db.pool.QueryRow(ctx, statsSQL, sourceID, ns(since)).
		Scan(&s.OK, &s.Failed, &s.GaveUp, &s.Disallowed, &s.Refused, &s.Missing, &lastErr, &lastAt)
	if err != nil {
		return store.ArticleStats{}, fmt.Errorf("article counts of %s: %w", sourceID, err)
	}
	if lastErr != nil {
		s.LastError = *lastErr
	}
	if lastAt != nil {
		s.LastErrorAt = nsTime(*lastAt)
	}
	return s, nil
}

// statsSQL is ArticleStats' query ($1 source, $2 since): one pass over
// the source's items, each joined to its record for its current link,
// and the latest failure among those records.
const statsSQL = `SELECT c.*, l.error, l.fetched_ns FROM (SELECT
		count(a.status) FILTER (WHERE a.status = 'ok'), count(a.status) FILTER (WHERE a.status = 'failed'),
		count(a.status) FILTER (WHERE a.status = 'gave_up'), count(a.status) FILTER (WHERE a.status = 'disallowed'),
		count(a.status) FILTER (WHERE a.status = 'refused'),
		count(*) FILTER (WHERE ` + dueNew + `)
		FROM items i LEFT JOIN articles a ON ` + linkJoin + ` WHERE i.source_id = $1) c
	LEFT JOIN (SELECT a.data->>'Error' AS error, a.fetched_ns FROM items i JOIN articles a ON ` + linkJoin + `
		WHERE i.source_id = $1 AND a.status <> 'ok' AND a.data->>'Error' <> ''
		ORDER BY a.fetched_ns DESC NULLS LAST, a.id_hash LIMIT 1) l ON true`

// Articles calls fn with each article record of a source, in item id
// order, until fn returns false. It reads articlesPage records per query,
// each under its own timeout, and holds no transaction while fn runs.
func (db *DB) Articles(sourceID string, fn func(newsdesk.Article) bool) error {
	var after []byte
	for {
		page, last, err := db.articlesAfter(sourceID, after)
		if err != nil {
			return fmt.Errorf("articles of %s: %w", sourceID, err)
		}
		for _, a := range page {
			if !fn(a) {
				return nil
			}
		}
		if len(page) < articlesPage {
			return nil
		}
		after = last
	}
}

// articlesPage is how many records one query of Articles reads.
const articlesPage = 200

// articlesAfter reads the next articlesPage records of a source after the
// item id after (from the first when nil), and the last one's item id.
func (db *DB) articlesAfter(sourceID string, after []byte) ([]newsdesk.Article, []byte, error) {
	ctx, cancel := call()
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT i.item_id, a.data, a.html FROM articles a JOIN items i ON i.source_id = a.source_id AND i.id_hash = a.id_hash
		WHERE a.source_id = $1 AND ($2::bytea IS NULL OR i.item_id > $2) ORDER BY i.item_id LIMIT $3`, sourceID, after, articlesPage)
	if err != nil {
		return nil, nil, err
	}
	var out []newsdesk.Article
	var last []byte
	for rows.Next() {
		var data []byte
		var html string
		if err := rows.Scan(&last, &data, &html); err != nil {
			return nil, nil, err
		}
		a, err := decodeArticle(data, html)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, a)
	}
	return out, last, rows.Err()
}
