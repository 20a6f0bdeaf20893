package store

import (
	"context"
	"errors"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Cluster is a store that several newsdesk processes share at once (the
// PostgreSQL engine). They divide the fetching between them by leases,
// learn of each other's commits, and see each other in status. A store
// without it (bbolt) has one writer: the process that holds it fetches
// alone and learns of nothing it did not do itself.
//
// The rules of a shared store:
//
//   - The polling policy stays in Go: after each fetch the fetcher computes
//     the source's next due time (newsdesk.FetchState.NextDue) and the
//     leased save stores it as the source's due time; at start and reload
//     SyncSources stores the due time of each configured source as its
//     configuration makes it.
//   - A source is fetched only under a lease (Lease), taken in one short
//     transaction that is committed at once: no transaction is ever held
//     across an HTTP request. Leases last LeaseRequest.For, longer than a
//     fetch can take; an expired lease is simply due again.
//   - fetch.per_host holds across the cluster: Lease gives a source only
//     while fewer than PerHost sources of its host are leased.
//   - A leased save (SaveFetchLeased, SaveStateLeased) commits only while
//     the lease is the source's latest: a process paused past its lease,
//     whose source another process has leased since, gets ErrLeaseLost and
//     writes nothing.
//   - Times that decide scheduling and which copy of a story was seen
//     first are the database's clock (Lease.Now, Clock), not each
//     machine's.
type Cluster interface {
	// Clock returns the database's time now.
	Clock(ctx context.Context) (time.Time, error)

	// Join records this instance, or refreshes its record (a heartbeat):
	// status lists the instances seen lately with their config hashes.
	Join(ctx context.Context, in Instance) error
	// Leave removes this instance's record and its configured sources.
	Leave(ctx context.Context, instanceID string) error
	// Instances returns the instances that joined and were seen within the
	// last since, most recently started first.
	Instances(ctx context.Context, since time.Duration) ([]Instance, error)

	// SyncSources records which sources instanceID is configured with (all
	// of them: those it lists no longer are forgotten for it), the host of
	// each (for PerHost), and when each is due as this instance's
	// configuration makes it.
	SyncSources(ctx context.Context, instanceID string, sources []SourceDue) error
	// Lease leases up to req.Max sources of req.Instance's configuration
	// (or of req.Sources when given) that are due now by the database's
	// clock, oldest due first, that no unexpired lease holds, and whose
	// host has fewer than req.PerHost leased sources. It also returns when
	// the next of its sources is due or its lease expires (Next), so the
	// caller knows when to ask again.
	Lease(ctx context.Context, req LeaseRequest) (LeaseBatch, error)
	// SaveFetchLeased is Store.SaveFetch under lease l: it also stores
	// st.NextDue as the source's due time and ends the lease, or does
	// nothing and returns ErrLeaseLost when the lease is no longer the
	// source's latest.
	SaveFetchLeased(l Lease, st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error)
	// SaveStateLeased is Store.SaveState under lease l, as SaveFetchLeased.
	SaveStateLeased(l Lease, st newsdesk.FetchState) error
	// Release ends lease l without a fetch (shutdown), leaving the source
	// due as it was; a lost lease is not an error.
	Release(ctx context.Context, l Lease) error

	// Changes returns what was committed after the change number since:
	// the sources whose items or state changed and the sections whose
	// editorial decisions or recorded version (RecordSectionVersions)
	// changed, and the latest change number (pass it
	// as since next time). A change may be returned by two calls in a row,
	// never by none. Since 0 returns the latest number with no ids (a
	// starting point).
	Changes(ctx context.Context, since int64) (Changes, error)
	// Listen calls fn (from one goroutine) each time a commit anywhere in
	// the cluster may have changed something, until ctx is done or the
	// notification connection fails (its error is returned). Notifications
	// can be lost with a connection: callers also poll Changes.
	Listen(ctx context.Context, fn func()) error
}

// Instance is a newsdesk process sharing a Cluster store.
type Instance struct {
	ID         string    `json:"id"`          // unique per process: host, pid and a random part
	Host       string    `json:"host"`        // the machine's host name
	Command    string    `json:"command"`     // "serve" or "run"
	Version    string    `json:"version"`     // newsdesk.Version
	ConfigHash string    `json:"config_hash"` // SHA-256 of the feeds.yaml it runs, hex, first 12 characters
	Sources    int       `json:"sources"`     // configured sources
	Started    time.Time `json:"started"`
	Seen       time.Time `json:"seen"` // the last Join (heartbeat), database clock
}

// SourceDue is one configured source as SyncSources records it.
type SourceDue struct {
	ID   string
	Host string    // the host its fetches go to
	Due  time.Time // when it is next due; zero: now, unless the store has a due time for it (kept: a restart never polls early)
}

// LeaseRequest asks Cluster.Lease for sources to fetch.
type LeaseRequest struct {
	Instance string        // the instance asking
	Max      int           // at most this many sources
	PerHost  int           // fetches in flight to one host across the cluster
	For      time.Duration // how long the leases last
	// Sources, when set, limits the lease to these sources (a `run
	// -source`, or a run's sources not yet fetched).
	Sources []string
	// Force leases Sources whether or not they are due (`run -force`);
	// never one another lease holds.
	Force bool
}

// Lease is one leased source.
type Lease struct {
	SourceID string
	Instance string
	Epoch    int64     // the source's lease counter when it was leased: what a leased save checks
	Until    time.Time // the database's clock
	Now      time.Time // the database's clock when it was leased
}

// LeaseBatch is what one Cluster.Lease call returns.
type LeaseBatch struct {
	Leases []Lease
	Now    time.Time // the database's clock
	// Next is when the earliest of the request's sources not leased now is
	// due or its lease expires; zero when none is.
	Next time.Time
}

// Changes is what Cluster.Changes returns.
type Changes struct {
	Seq      int64
	Sources  []string
	Sections []string
}

// ErrLeaseLost is returned by a leased save whose lease is no longer the
// source's latest: another instance has leased the source since.
var ErrLeaseLost = errors.New("lease lost: another instance has fetched this source since")
