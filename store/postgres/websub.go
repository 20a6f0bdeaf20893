package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// WebSub (issue 14), the store contract's WebSubStore (store/websub.go) on
// PostgreSQL, in the tables of migration 5: hub_subscriptions, one row per
// reader's subscription with its delivery state and claim in columns, and
// push_subscriptions, one row per source (removed with the source's row).
//
// Times are Unix nanoseconds (bigint, NULL for a zero time), as elsewhere
// in this schema; a claim's due-ness is judged at the caller's time or,
// when it gives none, at the database's (statement_timestamp()), so that
// instances whose clocks differ agree.

// hubColumns are the columns scanHub reads, in its order.
const hubColumns = `topic, callback, section_id, format, secret, lease_seconds, created_ns, expires_ns,
	sent_ns, failures, next_try_ns, last_attempt_ns, last_result`

// scanHub reads a row of hubColumns.
func scanHub(row pgx.Row) (newsdesk.HubSubscription, error) {
	var s newsdesk.HubSubscription
	var created, expires, sent, next, last *int64
	err := row.Scan(&s.Topic, &s.Callback, &s.Section, &s.Format, &s.Secret, &s.LeaseSeconds, &created, &expires,
		&sent, &s.Failures, &next, &last, &s.LastResult)
	s.Created, s.Expires, s.Sent, s.NextTry, s.LastAttempt = timeOrZero(created), timeOrZero(expires), timeOrZero(sent), timeOrZero(next), timeOrZero(last)
	return s, err
}

// timeOrZero is the time of n Unix ns, or the zero time for nil (NULL).
func timeOrZero(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return nsTime(*n)
}

// SaveHubSubscription stores a verified subscription; a stored one takes
// its lease columns and keeps its delivery state and claim.
func (db *DB) SaveHubSubscription(s newsdesk.HubSubscription) error {
	if s.Topic == "" || s.Callback == "" {
		return errors.New("save hub subscription: empty topic or callback")
	}
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error { return saveHub(ctx, tx, s) })
	if err != nil {
		return fmt.Errorf("save hub subscription of %s to %s: %w", store.Redact(s.Callback), store.Redact(s.Topic), err)
	}
	return nil
}

// saveHub upserts s: a stored subscription takes its lease columns and
// keeps its delivery state and claim.
func saveHub(ctx context.Context, tx pgx.Tx, s newsdesk.HubSubscription) error {
	_, err := tx.Exec(ctx, `INSERT INTO hub_subscriptions (`+hubColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (topic, callback) DO UPDATE SET section_id = excluded.section_id, format = excluded.format,
			secret = excluded.secret, lease_seconds = excluded.lease_seconds, expires_ns = excluded.expires_ns`,
		s.Topic, s.Callback, s.Section, s.Format, s.Secret, s.LeaseSeconds, nsOrNil(s.Created), nsOrNil(s.Expires),
		nsOrNil(s.Sent), s.Failures, nsOrNil(s.NextTry), nsOrNil(s.LastAttempt), s.LastResult)
	return err
}

// DeleteHubSubscription removes a subscription.
func (db *DB) DeleteHubSubscription(topic, callback string) error {
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM hub_subscriptions WHERE topic = $1 AND callback = $2`, topic, callback)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete hub subscription of %s to %s: %w", store.Redact(callback), store.Redact(topic), err)
	}
	return nil
}

// HubSubscriptions calls fn with each subscription, by topic then callback.
func (db *DB) HubSubscriptions(fn func(newsdesk.HubSubscription) bool) error {
	err := db.view(func(ctx context.Context, tx pgx.Tx) error { return eachHubSubscription(ctx, tx, fn) })
	if err != nil {
		return fmt.Errorf("hub subscriptions: %w", err)
	}
	return nil
}

func eachHubSubscription(ctx context.Context, tx pgx.Tx, fn func(newsdesk.HubSubscription) bool) error {
	rows, err := tx.Query(ctx, `SELECT `+hubColumns+` FROM hub_subscriptions ORDER BY topic, callback`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanHub(rows)
		if err != nil {
			return err
		}
		if !fn(s) {
			return nil
		}
	}
	return rows.Err()
}

// claimDue claims, in one statement, up to $4 subscriptions due at $1 (or
// the statement's time when NULL) for the versions $2 (sections) and $3
// (their ChangedAt, ns), for holder $5 during $6 ns. SKIP LOCKED passes
// over rows another instance's claim is writing: each row is claimed by
// one statement, whose claim the others then see.
const claimDue = `WITH now AS (SELECT coalesce($1::bigint, (extract(epoch FROM statement_timestamp()) * 1000000)::bigint * 1000) AS ns),
	v AS (SELECT * FROM unnest($2::text[], $3::bigint[]) AS v(section_id, changed_ns)),
	due AS (
		SELECT h.topic, h.callback FROM hub_subscriptions h JOIN v ON v.section_id = h.section_id CROSS JOIN now
		WHERE h.expires_ns > now.ns AND (h.sent_ns IS NULL OR v.changed_ns > h.sent_ns)
			AND (h.next_try_ns IS NULL OR h.next_try_ns <= now.ns)
			AND (h.claimed_by IS NULL OR h.claim_until_ns <= now.ns)
		ORDER BY h.next_try_ns NULLS FIRST, h.topic, h.callback
		LIMIT $4
		FOR UPDATE OF h SKIP LOCKED)
	UPDATE hub_subscriptions h SET claimed_by = $5, claim_until_ns = now.ns + $6
	FROM due, now WHERE h.topic = due.topic AND h.callback = due.callback
	RETURNING h.topic, h.callback, h.section_id, h.format, h.secret, h.lease_seconds, h.created_ns, h.expires_ns,
		h.sent_ns, h.failures, h.next_try_ns, h.last_attempt_ns, h.last_result`

// ClaimDeliveries claims the subscriptions due for delivery in one
// statement (claimDue), committed at once.
func (db *DB) ClaimDeliveries(req store.DeliveryRequest) ([]newsdesk.HubSubscription, error) {
	if err := store.CheckClaim(req); err != nil {
		return nil, err
	}
	sections, changed := make([]string, 0, len(req.Versions)), make([]int64, 0, len(req.Versions))
	for id, at := range req.Versions {
		if !at.IsZero() {
			sections, changed = append(sections, id), append(changed, ns(at))
		}
	}
	var out []newsdesk.HubSubscription
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimDue, nsOrNil(req.Now), sections, changed, store.ClaimLimit(req), req.Holder, int64(req.Hold))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (newsdesk.HubSubscription, error) { return scanHub(row) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	slices.SortFunc(out, func(x, y newsdesk.HubSubscription) int {
		return cmp.Or(x.NextTry.Compare(y.NextTry), strings.Compare(x.Topic, y.Topic), strings.Compare(x.Callback, y.Callback))
	})
	return out, nil
}

// FinishDelivery records a claimed delivery's outcome and ends the claim,
// when the claim is still the holder's.
func (db *DB) FinishDelivery(r store.DeliveryResult) error {
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		if r.Gone {
			_, err := tx.Exec(ctx, `DELETE FROM hub_subscriptions WHERE topic = $1 AND callback = $2 AND claimed_by = $3`, r.Topic, r.Callback, r.Holder)
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE hub_subscriptions SET last_attempt_ns = $4, sent_ns = coalesce($5, sent_ns), failures = $6,
				next_try_ns = $7, last_result = $8, claimed_by = NULL, claim_until_ns = NULL
			WHERE topic = $1 AND callback = $2 AND claimed_by = $3`,
			r.Topic, r.Callback, r.Holder, nsOrNil(r.At), nsOrNil(r.Sent), r.Failures, nsOrNil(r.NextTry), r.Result)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish delivery to %s of %s: %w", store.Redact(r.Callback), store.Redact(r.Topic), err)
	}
	return nil
}

// DeleteExpiredHubSubscriptions removes the subscriptions whose lease
// ended at or before now.
func (db *DB) DeleteExpiredHubSubscriptions(now time.Time) (int, error) {
	var n int
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM hub_subscriptions WHERE expires_ns IS NULL OR expires_ns <= $1`, ns(now))
		n = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired hub subscriptions: %w", err)
	}
	return n, nil
}

// SavePushSubscription stores a source's subscription at its hub. The
// source gets its row when it has none (the subscription hangs on it).
func (db *DB) SavePushSubscription(p newsdesk.PushSubscription) error {
	if p.SourceID == "" {
		return errors.New("save push subscription: empty source id")
	}
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error { return savePush(ctx, tx, p) })
	if err != nil {
		return fmt.Errorf("save push subscription of %s: %w", p.SourceID, err)
	}
	return nil
}

// savePush upserts p, with its source's row when it has none.
func savePush(ctx context.Context, tx pgx.Tx, p newsdesk.PushSubscription) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sources (source_id) VALUES ($1) ON CONFLICT DO NOTHING`, p.SourceID); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO push_subscriptions (source_id, data) VALUES ($1, $2)
		ON CONFLICT (source_id) DO UPDATE SET data = excluded.data`, p.SourceID, string(data))
	return err
}

// PushSubscription returns a source's subscription, or
// newsdesk.ErrNotFound.
func (db *DB) PushSubscription(sourceID string) (newsdesk.PushSubscription, error) {
	var p newsdesk.PushSubscription
	err := db.view(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		p, err = scanPush(tx.QueryRow(ctx, `SELECT source_id, data FROM push_subscriptions WHERE source_id = $1`, sourceID))
		if errors.Is(err, pgx.ErrNoRows) {
			return newsdesk.ErrNotFound
		}
		return err
	})
	if err != nil {
		return p, fmt.Errorf("push subscription of %s: %w", sourceID, err)
	}
	return p, nil
}

// PushSubscriptions returns every source's subscription, by source id.
func (db *DB) PushSubscriptions() ([]newsdesk.PushSubscription, error) {
	var out []newsdesk.PushSubscription
	err := db.view(func(ctx context.Context, tx pgx.Tx) error {
		out = out[:0]
		return eachPushSubscription(ctx, tx, func(p newsdesk.PushSubscription) { out = append(out, p) })
	})
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	return out, nil
}

func eachPushSubscription(ctx context.Context, tx pgx.Tx, fn func(newsdesk.PushSubscription)) error {
	rows, err := tx.Query(ctx, `SELECT source_id, data FROM push_subscriptions ORDER BY source_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPush(rows)
		if err != nil {
			return err
		}
		fn(p)
	}
	return rows.Err()
}

// scanPush reads a row of source_id and data.
func scanPush(row pgx.Row) (newsdesk.PushSubscription, error) {
	var id string
	var data []byte
	var p newsdesk.PushSubscription
	if err := row.Scan(&id, &data); err != nil {
		return p, err
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("push subscription of %s: %w", id, err)
	}
	return p, nil
}

// DeletePushSubscription removes a source's subscription.
func (db *DB) DeletePushSubscription(sourceID string) error {
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE source_id = $1`, sourceID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete push subscription of %s: %w", sourceID, err)
	}
	return nil
}

// SavePush stores what a hub pushed for a source as SaveFetch stores a
// fetch (the same batch, retention and write, ingest.go), with the
// source's row locked, but leaves its state and due time alone and its
// tombstones alive; the source counts as changed for other instances
// (Changes, Listen).
func (db *DB) SavePush(sourceID string, items []newsdesk.Item, keep newsdesk.Retention, now time.Time) (store.PushResult, error) {
	if sourceID == "" {
		return store.PushResult{}, errors.New("save push: empty source id")
	}
	now = now.UTC()
	var res store.PushResult
	err := db.txRows(len(items), func(ctx context.Context, tx pgx.Tx) error {
		s := &source{ctx: ctx, tx: tx, id: sourceID}
		err := tx.QueryRow(ctx, `SELECT item_count FROM sources WHERE source_id = $1 AND state IS NOT NULL FOR UPDATE`, sourceID).Scan(&s.count)
		if errors.Is(err, pgx.ErrNoRows) {
			return newsdesk.ErrNotFound
		}
		if err != nil {
			return err
		}
		b, err := s.ingest(items, keep, now, false)
		if err != nil {
			return err
		}
		res = store.PushResult{New: b.Added, Updated: b.Changed, Skipped: b.Skipped, SkipReason: b.SkipReason}
		_, err = tx.Exec(ctx, `WITH w AS (UPDATE sources SET item_count = $2, changed_seq = `+xactSeq+` WHERE source_id = $1 RETURNING changed_seq)
			SELECT pg_notify('`+channel+`', changed_seq::text) FROM w`, sourceID, b.count)
		return err
	})
	if err != nil {
		return store.PushResult{}, fmt.Errorf("save push of %s: %w", sourceID, err)
	}
	return res, nil
}
