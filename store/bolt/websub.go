package bolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// WebSub (issue 14), the store contract's WebSubStore (store/websub.go) on
// bbolt. Schema 6 adds two buckets:
//
//	websub_hub   TOPIC 0 CALLBACK -> newsdesk.HubSubscription (JSON)
//	websub_push  SOURCE_ID        -> newsdesk.PushSubscription (JSON)
//
// Delivery claims live in memory (claims): the file lock makes this
// process the only one that uses the file, so a claim cannot outlive the
// process that made it, and a restart forgets the claims with the
// deliveries they stood for.

var (
	bucketHubSubs  = []byte("websub_hub")
	bucketPushSubs = []byte("websub_push")
)

// claims are the delivery claims of an open file, shared by the handles
// Borrow makes of it.
type claims struct {
	mu   sync.Mutex
	held map[string]claim // by hubKey
}

// claim is one subscription's claim: its holder's, until until.
type claim struct {
	holder string
	until  time.Time
}

// hubKey is a hub subscription's key: its topic, a 0 and its callback.
func hubKey(topic, callback string) []byte {
	return append(append([]byte(topic), 0), callback...)
}

// SaveHubSubscription stores a verified subscription; one already stored
// keeps its delivery state (and its claim, which is kept apart).
func (db *DB) SaveHubSubscription(s newsdesk.HubSubscription) error {
	if s.Topic == "" || s.Callback == "" {
		return errors.New("save hub subscription: empty topic or callback")
	}
	k := hubKey(s.Topic, s.Callback)
	err := db.commit(1, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketHubSubs)
		saved := s
		if v := b.Get(k); v != nil {
			var old newsdesk.HubSubscription
			if err := json.Unmarshal(v, &old); err != nil {
				return fmt.Errorf("stored subscription: %w", err)
			}
			saved = keepDelivery(s, old)
		}
		return putJSON(b, k, saved)
	})
	if err != nil {
		return fmt.Errorf("save hub subscription of %s to %s: %w", store.Redact(s.Callback), store.Redact(s.Topic), err)
	}
	return nil
}

// keepDelivery is s, a renewed subscription, with old's delivery state.
func keepDelivery(s, old newsdesk.HubSubscription) newsdesk.HubSubscription {
	s.Created, s.Sent, s.Failures, s.NextTry, s.LastAttempt, s.LastResult = old.Created, old.Sent, old.Failures, old.NextTry, old.LastAttempt, old.LastResult
	return s
}

// DeleteHubSubscription removes a subscription and its claim.
func (db *DB) DeleteHubSubscription(topic, callback string) error {
	k := hubKey(topic, callback)
	err := db.commit(1, func(tx *bbolt.Tx) error { return tx.Bucket(bucketHubSubs).Delete(k) })
	if err != nil {
		return fmt.Errorf("delete hub subscription of %s to %s: %w", store.Redact(callback), store.Redact(topic), err)
	}
	db.health.claims.release(string(k), "")
	return nil
}

// HubSubscriptions calls fn with each subscription, by topic then callback.
func (db *DB) HubSubscriptions(fn func(newsdesk.HubSubscription) bool) error {
	err := db.view(func(tx *bbolt.Tx) error {
		return eachHubSubscription(tx, fn)
	})
	if err != nil {
		return fmt.Errorf("hub subscriptions: %w", err)
	}
	return nil
}

// errStop ends a ForEach early.
var errStop = errors.New("stop")

// eachHubSubscription calls fn with each subscription of tx, in key order,
// until fn returns false. A file read-only at an older schema has none.
func eachHubSubscription(tx *bbolt.Tx, fn func(newsdesk.HubSubscription) bool) error {
	b := tx.Bucket(bucketHubSubs)
	if b == nil {
		return nil
	}
	err := b.ForEach(func(k, v []byte) error {
		var s newsdesk.HubSubscription
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("subscription %q: %w", k, err)
		}
		if !fn(s) {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// ClaimDeliveries claims the subscriptions due for delivery. It reads and
// claims under the claims lock, so that two callers never claim one
// subscription, and from a transaction begun after every FinishDelivery
// that ended a claim: no caller is given a version already sent.
func (db *DB) ClaimDeliveries(req store.DeliveryRequest) ([]newsdesk.HubSubscription, error) {
	if err := store.CheckClaim(req); err != nil {
		return nil, err
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	limit := store.ClaimLimit(req)
	c := &db.health.claims
	c.mu.Lock()
	defer c.mu.Unlock()
	var due []newsdesk.HubSubscription
	err := db.view(func(tx *bbolt.Tx) error {
		return eachHubSubscription(tx, func(s newsdesk.HubSubscription) bool {
			if store.Due(s, req.Versions, now) && !c.heldAt(string(hubKey(s.Topic, s.Callback)), now) {
				due = append(due, s)
			}
			return true
		})
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	slices.SortStableFunc(due, func(x, y newsdesk.HubSubscription) int { return x.NextTry.Compare(y.NextTry) })
	due = due[:min(len(due), limit)]
	if c.held == nil {
		c.held = map[string]claim{}
	}
	for _, s := range due {
		c.held[string(hubKey(s.Topic, s.Callback))] = claim{holder: req.Holder, until: now.Add(req.Hold)}
	}
	return due, nil
}

// heldAt reports whether a claim holds subscription k at now, forgetting
// it when it ran out. The caller holds mu.
func (c *claims) heldAt(k string, now time.Time) bool {
	cl, ok := c.held[k]
	if ok && !now.Before(cl.until) {
		delete(c.held, k)
		return false
	}
	return ok
}

// holds reports whether holder holds subscription k's claim.
func (c *claims) holds(k, holder string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.held[k]
	return ok && cl.holder == holder
}

// release ends subscription k's claim when holder holds it, or whoever
// does when holder is "".
func (c *claims) release(k, holder string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.held[k]; ok && (holder == "" || cl.holder == holder) {
		delete(c.held, k)
	}
}

// FinishDelivery records a claimed delivery's outcome, then ends the
// claim: until the outcome is committed the claim keeps others from the
// subscription.
func (db *DB) FinishDelivery(r store.DeliveryResult) error {
	k := hubKey(r.Topic, r.Callback)
	c := &db.health.claims
	if !c.holds(string(k), r.Holder) {
		return nil
	}
	err := db.commit(1, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketHubSubs)
		v := b.Get(k)
		switch {
		case v == nil:
			return nil
		case r.Gone:
			return b.Delete(k)
		}
		var s newsdesk.HubSubscription
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("stored subscription: %w", err)
		}
		store.RecordDelivery(&s, r)
		return putJSON(b, k, s)
	})
	if err != nil {
		return fmt.Errorf("finish delivery to %s of %s: %w", store.Redact(r.Callback), store.Redact(r.Topic), err)
	}
	c.release(string(k), r.Holder)
	return nil
}

// DeleteExpiredHubSubscriptions removes the subscriptions whose lease
// ended at or before now.
func (db *DB) DeleteExpiredHubSubscriptions(now time.Time) (int, error) {
	var gone [][]byte
	err := db.commit(1, func(tx *bbolt.Tx) error {
		gone = gone[:0]
		if err := eachHubSubscription(tx, func(s newsdesk.HubSubscription) bool {
			if !s.Expires.After(now) {
				gone = append(gone, hubKey(s.Topic, s.Callback))
			}
			return true
		}); err != nil {
			return err
		}
		b := tx.Bucket(bucketHubSubs)
		for _, k := range gone {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired hub subscriptions: %w", err)
	}
	for _, k := range gone {
		db.health.claims.release(string(k), "")
	}
	return len(gone), nil
}

// SavePushSubscription stores a source's subscription at its hub.
func (db *DB) SavePushSubscription(p newsdesk.PushSubscription) error {
	if p.SourceID == "" {
		return errors.New("save push subscription: empty source id")
	}
	err := db.commit(1, func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketPushSubs), []byte(p.SourceID), p)
	})
	if err != nil {
		return fmt.Errorf("save push subscription of %s: %w", p.SourceID, err)
	}
	return nil
}

// PushSubscription returns a source's subscription, or
// newsdesk.ErrNotFound.
func (db *DB) PushSubscription(sourceID string) (newsdesk.PushSubscription, error) {
	var p newsdesk.PushSubscription
	err := db.view(func(tx *bbolt.Tx) error {
		var v []byte
		if b := tx.Bucket(bucketPushSubs); b != nil {
			v = b.Get([]byte(sourceID))
		}
		if v == nil {
			return newsdesk.ErrNotFound
		}
		return json.Unmarshal(v, &p)
	})
	if err != nil {
		return p, fmt.Errorf("push subscription of %s: %w", sourceID, err)
	}
	return p, nil
}

// PushSubscriptions returns every source's subscription, by source id.
func (db *DB) PushSubscriptions() ([]newsdesk.PushSubscription, error) {
	var out []newsdesk.PushSubscription
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPushSubs)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var p newsdesk.PushSubscription
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("subscription of %s: %w", k, err)
			}
			out = append(out, p)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	return out, nil
}

// DeletePushSubscription removes a source's subscription.
func (db *DB) DeletePushSubscription(sourceID string) error {
	err := db.commit(1, func(tx *bbolt.Tx) error { return tx.Bucket(bucketPushSubs).Delete([]byte(sourceID)) })
	if err != nil {
		return fmt.Errorf("delete push subscription of %s: %w", sourceID, err)
	}
	return nil
}

// SavePush stores what a hub pushed for a source the way SaveFetch stores
// a fetch (ingest.go: the same batch, retention and write), in one
// transaction, leaving the source's state as it is and its tombstones
// alive: a push may carry only the new entries, so what it lacks says
// nothing about the feed.
func (db *DB) SavePush(sourceID string, items []newsdesk.Item, keep newsdesk.Retention, now time.Time) (store.PushResult, error) {
	if sourceID == "" {
		return store.PushResult{}, errors.New("save push: empty source id")
	}
	now = now.UTC()
	var res store.PushResult
	err := db.commit(len(items)+1, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketState).Get([]byte(sourceID)) == nil {
			return newsdesk.ErrNotFound
		}
		b, err := ingest(tx, sourceID, items, keep, now, false)
		if err != nil {
			return err
		}
		res = store.PushResult{New: b.Added, Updated: b.Changed, Skipped: b.Skipped, SkipReason: b.SkipReason}
		return nil
	})
	if err != nil {
		return store.PushResult{}, fmt.Errorf("save push of %s: %w", sourceID, err)
	}
	return res, nil
}
