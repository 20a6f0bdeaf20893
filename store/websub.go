package store

import (
	"fmt"
	"net/url"
	"time"

	"github.com/newsdesk/newsdesk"
)

// WebSub (issue 14): the subscriptions newsdesk keeps as a hub
// (newsdesk.HubSubscription) and as a subscriber (newsdesk.PushSubscription),
// and the ingest of what a hub pushes (SavePush).
//
// Deliveries are claimed: ClaimDeliveries marks the subscriptions due for
// the caller, who delivers and reports each one with FinishDelivery. A
// claim lasts DeliveryRequest.Hold; until it ends no other caller (another
// instance sharing the store) is given the subscription, so each version
// is delivered once. A subscription records the version it was last sent
// (Sent): a caller that serves an older version than another has already
// delivered is never given it, so a lagging instance cannot send an older
// version after a newer one.
type WebSubStore interface {
	// SaveHubSubscription stores a verified subscription, keyed by Topic
	// and Callback. When one exists its lease fields (Section, Format,
	// Secret, LeaseSeconds, Expires) are replaced and its delivery state
	// (Sent, Failures, NextTry, LastAttempt, LastResult, Created, and any
	// claim) is kept; a new one is stored as given.
	SaveHubSubscription(s newsdesk.HubSubscription) error
	// DeleteHubSubscription removes a subscription; removing one that does
	// not exist is not an error.
	DeleteHubSubscription(topic, callback string) error
	// HubSubscriptions calls fn with each stored subscription, expired ones
	// included, by Topic then Callback, until fn returns false.
	HubSubscriptions(fn func(newsdesk.HubSubscription) bool) error
	// ClaimDeliveries claims up to req.Limit subscriptions due for
	// delivery and returns them, earliest NextTry first: those not
	// expired at req.Now whose section has a version in req.Versions newer
	// than their Sent, whose NextTry is not after req.Now, and that no
	// claim holds (a claim ends at FinishDelivery or req.Hold after it was
	// made).
	ClaimDeliveries(req DeliveryRequest) ([]newsdesk.HubSubscription, error)
	// FinishDelivery records the outcome of a claimed delivery and ends
	// the claim. It does nothing when the subscription is gone or the
	// claim is no longer the holder's (it ran out and another took it).
	FinishDelivery(r DeliveryResult) error
	// DeleteExpiredHubSubscriptions removes the subscriptions whose lease
	// ended at or before now and returns how many.
	DeleteExpiredHubSubscriptions(now time.Time) (int, error)

	// SavePushSubscription stores a source's subscription at its hub,
	// replacing the one it had.
	SavePushSubscription(p newsdesk.PushSubscription) error
	// PushSubscription returns a source's subscription, or
	// newsdesk.ErrNotFound.
	PushSubscription(sourceID string) (newsdesk.PushSubscription, error)
	// PushSubscriptions returns every source's subscription, by source id.
	PushSubscriptions() ([]newsdesk.PushSubscription, error)
	// DeletePushSubscription removes a source's subscription; removing
	// none is not an error.
	DeletePushSubscription(sourceID string) error
	// SavePush stores the items a hub pushed for a source, in one
	// transaction: new items are added and stored ones updated in place,
	// as SaveFetch does (FirstSeen kept, retention applied, an item with a
	// tombstone not stored again), but the source's fetch state is not
	// changed (validators, next due time, history), and items the push
	// does not carry are not taken as gone from the feed (tombstones are
	// neither made for them nor ended). It returns
	// newsdesk.ErrNotFound when the source was never fetched. In a
	// cluster the source counts as changed (Changes).
	SavePush(sourceID string, items []newsdesk.Item, keep newsdesk.Retention, now time.Time) (PushResult, error)
}

// DeliveryRequest asks ClaimDeliveries for the deliveries a caller can
// make.
type DeliveryRequest struct {
	// Versions are the ChangedAt of the section versions the caller
	// serves, by section id: it can deliver those, no others.
	Versions map[string]time.Time
	// Now is the time due-ness is judged at; zero: the store's clock (the
	// database server's, for a shared store).
	Now time.Time
	// Holder names the caller's claims (an instance id); Hold is how long
	// they last.
	Holder string
	Hold   time.Duration
	// Limit caps how many are claimed; 0 means 100.
	Limit int
}

// DeliveryResult is the outcome of a claimed delivery.
type DeliveryResult struct {
	Topic, Callback string
	Holder          string // the claim's holder
	At              time.Time
	// Sent is the ChangedAt of the version delivered, set when the
	// delivery succeeded or was given up (the version is not tried again);
	// zero keeps the subscription's Sent.
	Sent     time.Time
	Failures int       // consecutive failures after this attempt
	NextTry  time.Time // zero: due as soon as a newer version is
	Result   string    // the LastResult to record
	// Gone removes the subscription (the callback answered 410 Gone).
	Gone bool
}

// PushResult counts what SavePush did.
type PushResult struct {
	New, Updated, Skipped int
	// SkipReason says why the first skipped item was skipped.
	SkipReason string
}

// DefaultClaimLimit is how many subscriptions ClaimDeliveries claims when
// DeliveryRequest.Limit is 0.
const DefaultClaimLimit = 100

// CheckClaim returns what is wrong with a DeliveryRequest, for engines to
// refuse it with: a claim needs a holder and a positive hold.
func CheckClaim(req DeliveryRequest) error {
	if req.Holder == "" || req.Hold <= 0 {
		return fmt.Errorf("claim deliveries: the request needs a Holder (got %q) and a positive Hold (got %v)", req.Holder, req.Hold)
	}
	return nil
}

// ClaimLimit is how many subscriptions req may claim.
func ClaimLimit(req DeliveryRequest) int {
	if req.Limit <= 0 {
		return DefaultClaimLimit
	}
	return req.Limit
}

// Due reports whether s is due for delivery at now to a caller that serves
// versions (section id -> ChangedAt), claims aside: not expired, a newer
// version of its section than it was sent, and NextTry not after now.
func Due(s newsdesk.HubSubscription, versions map[string]time.Time, now time.Time) bool {
	v, ok := versions[s.Section]
	return ok && s.Expires.After(now) && v.After(s.Sent) && !s.NextTry.After(now)
}

// RecordDelivery records r, a delivery's outcome, in s.
func RecordDelivery(s *newsdesk.HubSubscription, r DeliveryResult) {
	s.LastAttempt, s.Failures, s.NextTry, s.LastResult = r.At, r.Failures, r.NextTry, r.Result
	if !r.Sent.IsZero() {
		s.Sent = r.Sent
	}
}

// Redact is a URL as messages may show it: its scheme and host only, as
// a callback's path or query, or a private section's topic's query, may
// hold a token.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(a URL without a host)"
	}
	return u.Scheme + "://" + u.Host
}
