package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Verify checks what newsdesk relies on beyond what PostgreSQL guards
// itself (`newsdesk verify`), in one snapshot: the schema version; that
// every fetch state and item decodes, and that each item's columns (its
// id's hash, its times, its link and title hashes) are what SaveFetch
// writes for its data; that each source's item count is its rows; that no
// item, tombstone or decision lacks its source, or has a wrong hash; that
// no item is both stored and tombstoned; that every article decodes and
// its columns are its record's; that every WebSub subscription reads. What it finds wrong is in the
// report's Faults; an error means it could not check.
func (db *DB) Verify(ctx context.Context) (*store.Report, error) {
	r := &store.Report{Path: db.path}
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&r.Schema); err != nil {
			return err
		}
		if r.Schema != len(migrations) {
			r.Notes = append(r.Notes, fmt.Sprintf("schema %d, and this newsdesk knows %d: checked as this newsdesk reads it", r.Schema, len(migrations)))
		}
		counts, err := verifySources(ctx, tx, r)
		if err != nil {
			return err
		}
		held, err := verifyItems(ctx, tx, r)
		if err != nil {
			return err
		}
		for id, n := range held {
			if c, ok := counts[id]; !ok {
				r.Fault("source %s: %d items stored, and no row in sources", id, n)
			} else if c != n {
				r.Fault("source %s: its item count says %d, %d items are stored", id, c, n)
			}
		}
		for id, c := range counts {
			if _, ok := held[id]; !ok && c != 0 {
				r.Fault("source %s: its item count says %d, no items are stored", id, c)
			}
		}
		if err := verifyOthers(ctx, tx, r); err != nil {
			return err
		}
		if err := verifyArticles(ctx, tx, r); err != nil {
			return err
		}
		if r.Schema < 5 { // before WebSub
			return nil
		}
		return verifyWebSub(ctx, tx, r)
	})
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", db.path, err)
	}
	return r, nil
}

// verifySources checks that every fetch state decodes, counts the sources
// with something stored, and returns every row's item count.
func verifySources(ctx context.Context, tx pgx.Tx, r *store.Report) (map[string]int, error) {
	rows, err := tx.Query(ctx, `SELECT source_id, state, item_count FROM sources`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var id string
		var state []byte
		var n int64
		if err := rows.Scan(&id, &state, &n); err != nil {
			return nil, err
		}
		counts[id] = int(n)
		if state == nil && n == 0 {
			continue // a row SyncSources made for a source not yet fetched
		}
		r.Sources++
		var st newsdesk.FetchState
		if state != nil && json.Unmarshal(state, &st) != nil {
			r.Fault("fetch state of %s does not decode", id)
		}
	}
	return counts, rows.Err()
}

// verifyItems checks every item against its columns and returns how many
// each source has.
func verifyItems(ctx context.Context, tx pgx.Tx, r *store.Report) (map[string]int, error) {
	rows, err := tx.Query(ctx, `SELECT source_id, id_hash, item_id, published_ns, first_seen_ns, link_hash, title_hash, data FROM items`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := map[string]int{}
	for rows.Next() {
		var src string
		var idHash, id, link, title, data []byte
		var published, firstSeen int64
		if err := rows.Scan(&src, &idHash, &id, &published, &firstSeen, &link, &title, &data); err != nil {
			return nil, err
		}
		held[src]++
		r.Items++
		var it storedItem
		if err := json.Unmarshal(data, &it); err != nil {
			r.Fault("item %.80q of %s does not decode: %v", id, src, err)
			continue
		}
		switch {
		case !bytes.Equal(idHash, hash(string(id))):
			r.Fault("item %.80q of %s: its id's hash is not the SHA-256 of its id", id, src)
		case it.ID != string(id) || it.SourceID != src:
			r.Fault("item %.80q of %s: its data is item %.80q of %s", id, src, it.ID, it.SourceID)
		case published != ns(it.Published) || firstSeen != ns(it.FirstSeen):
			r.Fault("item %.80q of %s: its time columns are not its data's Published and FirstSeen", id, src)
		case !bytes.Equal(link, orNil(it.Link)) || !bytes.Equal(title, orNil(store.TitleKey(it.Title))):
			r.Fault("item %.80q of %s: its link or title hash is not its data's (duplicates would not be found)", id, src)
		}
	}
	return held, rows.Err()
}

// verifyOthers checks the tombstones and decisions, and counts them.
func verifyOthers(ctx context.Context, tx pgx.Tx, r *store.Report) error {
	var noID, noSource, badHash, alsoStored int
	err := tx.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE t.item_id IS NULL),
		count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.source_id = t.source_id)),
		count(*) FILTER (WHERE t.item_id IS NOT NULL AND t.id_hash <> sha256(t.item_id)),
		count(*) FILTER (WHERE EXISTS (SELECT 1 FROM items i WHERE i.source_id = t.source_id AND i.id_hash = t.id_hash))
		FROM tombstones t`).Scan(&r.Tombstones, &noID, &noSource, &badHash, &alsoStored)
	if err != nil {
		return err
	}
	faultIf(r, noSource, "%d tombstones belong to sources with no row in sources (a purge left them)")
	faultIf(r, badHash, "%d tombstones' id hashes are not the SHA-256 of their ids")
	faultIf(r, alsoStored, "%d items are both stored and tombstoned")
	if noID > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d tombstones are from before schema 2 and keep only their item's hash: a copy to a bbolt file (migrate -to) leaves them out", noID))
	}
	var gone, pruned int
	err = tx.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE d.id_hash <> sha256(d.item_id)),
		count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.source_id = d.source_id)),
		count(*) FILTER (WHERE EXISTS (SELECT 1 FROM sources s WHERE s.source_id = d.source_id)
			AND NOT EXISTS (SELECT 1 FROM items i WHERE i.source_id = d.source_id AND i.id_hash = d.id_hash))
		FROM decisions d`).Scan(&r.Decisions, &badHash, &gone, &pruned)
	if err != nil {
		return err
	}
	faultIf(r, badHash, "%d editorial decisions' id hashes are not the SHA-256 of their ids")
	faultIf(r, gone, "%d editorial decisions are about sources with no row in sources (a purge left them)")
	if pruned > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d editorial decisions are about items no longer stored (pruned): they apply to nothing", pruned))
	}
	return nil
}

func faultIf(r *store.Report, n int, format string) {
	if n > 0 {
		r.Fault(format, n)
	}
}

// verifyArticles checks that every article record decodes and that its
// key, link hash and status columns are its data's (PostgreSQL's foreign
// key already guarantees its item). It reads neither html nor page.
func verifyArticles(ctx context.Context, tx pgx.Tx, r *store.Report) error {
	rows, err := tx.Query(ctx, `SELECT source_id, id_hash, link_hash, status, data FROM articles`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var src, status string
		var idHash, link, data []byte
		if err := rows.Scan(&src, &idHash, &link, &status, &data); err != nil {
			return err
		}
		a, err := decodeArticle(data, "")
		switch {
		case err != nil:
			r.Fault("an article of %s does not decode: %v", src, err)
		case a.SourceID != src || !bytes.Equal(idHash, hash(a.ItemID)):
			r.Fault("article of %.80q of %s: its key is not its data's item", a.ItemID, src)
		case !bytes.Equal(link, orNil(a.Link)) || status != string(a.Status):
			r.Fault("article of %.80q of %s: its link hash or status is not its data's", a.ItemID, src)
		}
	}
	return rows.Err()
}

// verifyWebSub checks that every WebSub subscription reads, and counts
// them. A fault names a hub subscription by its callback's host: its topic
// and callback may hold tokens.
func verifyWebSub(ctx context.Context, tx pgx.Tx, r *store.Report) error {
	rows, err := tx.Query(ctx, `SELECT `+hubColumns+` FROM hub_subscriptions`)
	if err != nil {
		return err
	}
	for rows.Next() {
		r.WebSub++
		s, err := scanHub(rows)
		switch {
		case err != nil:
			r.Fault("hub subscription %d does not read: %v", r.WebSub, err)
		case s.Expires.IsZero() || s.Section == "":
			r.Fault("hub subscription of %s has no section or no lease end", store.Redact(s.Callback))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT source_id, data FROM push_subscriptions`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r.WebSub++
		if p, err := scanPush(rows); err != nil {
			r.Fault("%v", err)
		} else if p.SourceID == "" {
			r.Fault("a push subscription names no source")
		}
	}
	return rows.Err()
}
