package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/storetest"
)

var bg = context.Background()

// syncSources records n sources src-000... (hosts host-0..host-(hosts-1)
// in turn, due now) as the configuration of each instance.
func syncSources(t testing.TB, db *postgres.DB, n, hosts int, instances ...string) []string {
	t.Helper()
	var ids []string
	var due []store.SourceDue
	for i := range n {
		id := fmt.Sprintf("src-%03d", i)
		ids = append(ids, id)
		due = append(due, store.SourceDue{ID: id, Host: fmt.Sprintf("host-%d", i%hosts)})
	}
	for _, in := range instances {
		if err := db.SyncSources(bg, in, due); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func lease(t testing.TB, db *postgres.DB, req store.LeaseRequest) store.LeaseBatch {
	t.Helper()
	if req.For == 0 {
		req.For = time.Minute
	}
	b, err := db.Lease(bg, req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func leasedIDs(b store.LeaseBatch) []string {
	var out []string
	for _, l := range b.Leases {
		out = append(out, l.SourceID)
	}
	slices.Sort(out)
	return out
}

// done is the state a leased save stores: not due again for a day.
func done(l store.Lease) newsdesk.FetchState {
	return newsdesk.FetchState{SourceID: l.SourceID, LastFetch: l.Now, NextDue: l.Now.Add(24 * time.Hour), Result: newsdesk.ResultNotModified}
}

// holders tracks which sources and hosts instances hold while they "fetch".
type holders struct {
	mu      sync.Mutex
	sources map[string]string
	hosts   map[string]int
	maxHost int
	faults  []string
}

func (h *holders) take(in string, l store.Lease, host string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if other, ok := h.sources[l.SourceID]; ok {
		h.faults = append(h.faults, fmt.Sprintf("%s leased %s while %s held it", in, l.SourceID, other))
	}
	h.sources[l.SourceID] = in
	h.hosts[host]++
	h.maxHost = max(h.maxHost, h.hosts[host])
}

func (h *holders) drop(l store.Lease, host string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sources, l.SourceID)
	h.hosts[host]--
}

// runInstances runs 3 instances leasing the sources of db (each host
// being what hostOf says) until all n are fetched once or the deadline
// passes, and returns what the holders saw and how many each fetched.
func runInstances(t *testing.T, db *postgres.DB, n, perHost int, hostOf func(string) string) (*holders, int) {
	h := &holders{sources: map[string]string{}, hosts: map[string]int{}}
	var mu sync.Mutex
	fetched := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := range 3 {
		in := fmt.Sprintf("instance-%d", i)
		wg.Go(func() {
			for time.Now().Before(deadline) {
				mu.Lock()
				left := len(fetched) < n
				mu.Unlock()
				if !left {
					return
				}
				b, err := db.Lease(bg, store.LeaseRequest{Instance: in, Max: 7, PerHost: perHost, For: time.Minute})
				if err != nil {
					errs <- err
					return
				}
				for _, l := range b.Leases {
					h.take(in, l, hostOf(l.SourceID))
				}
				for _, l := range b.Leases {
					h.drop(l, hostOf(l.SourceID))
					if err := db.SaveStateLeased(l, done(l)); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					fetched[l.SourceID]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for id, k := range fetched {
		if k != 1 {
			t.Errorf("%s fetched %d times, want once", id, k)
		}
		total += k
	}
	return h, total
}

// TestLeaseNeverTwice: three instances leasing the same 200 sources at
// once never hold one source together, and fetch each once.
func TestLeaseNeverTwice(t *testing.T) {
	db := openDB(t, newSchema(t))
	syncSources(t, db, 200, 20, "instance-0", "instance-1", "instance-2")
	h, total := runInstances(t, db, 200, 0, func(string) string { return "" })
	if total != 200 {
		t.Errorf("fetched %d sources, want 200", total)
	}
	for _, f := range h.faults {
		t.Error(f)
	}
}

// TestPerHostAcrossInstances: with per_host 1, three instances never hold
// two sources of one host at once.
func TestPerHostAcrossInstances(t *testing.T) {
	db := openDB(t, newSchema(t))
	ids := syncSources(t, db, 30, 3, "instance-0", "instance-1", "instance-2")
	hostOf := func(id string) string { return fmt.Sprintf("host-%d", slices.Index(ids, id)%3) }
	h, total := runInstances(t, db, 30, 1, hostOf)
	if total != 30 {
		t.Errorf("fetched %d sources, want 30", total)
	}
	if h.maxHost != 1 {
		t.Errorf("at most %d sources of one host were leased at once, want 1", h.maxHost)
	}
	for _, f := range h.faults {
		t.Error(f)
	}

	// The limit holds between instances step by step too.
	db2 := openDB(t, newSchema(t))
	syncSources(t, db2, 4, 1, "a", "b")
	first := lease(t, db2, store.LeaseRequest{Instance: "a", Max: 4, PerHost: 1})
	second := lease(t, db2, store.LeaseRequest{Instance: "b", Max: 4, PerHost: 1})
	if len(first.Leases) != 1 || len(second.Leases) != 0 {
		t.Fatalf("one host, per_host 1: a leased %v, then b %v; want one, then none", leasedIDs(first), leasedIDs(second))
	}
	if err := db2.SaveStateLeased(first.Leases[0], done(first.Leases[0])); err != nil {
		t.Fatal(err)
	}
	if third := lease(t, db2, store.LeaseRequest{Instance: "b", Max: 4, PerHost: 2}); len(third.Leases) != 2 {
		t.Errorf("after a's save, per_host 2: b leased %v, want two", leasedIDs(third))
	}
}

// TestExpiredLeaseIsLost: a lease that expires is taken by another
// instance with a higher epoch, and the first instance's late saves are
// rejected with ErrLeaseLost and write nothing.
func TestExpiredLeaseIsLost(t *testing.T) {
	db := openDB(t, newSchema(t))
	syncSources(t, db, 1, 1, "a", "b")
	st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "src-000", ETag: `"v1"`, LastFetch: storetest.T0}, storetest.Feed("src-000", 3, storetest.T0), storetest.NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	a := lease(t, db, store.LeaseRequest{Instance: "a", Max: 1, For: 50 * time.Millisecond})
	if len(a.Leases) != 1 {
		t.Fatalf("a leased %v, want src-000", leasedIDs(a))
	}
	var b store.LeaseBatch
	for deadline := time.Now().Add(30 * time.Second); len(b.Leases) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("b never leased src-000 after a's lease expired")
		}
		b = lease(t, db, store.LeaseRequest{Instance: "b", Max: 1, For: time.Minute})
	}
	if b.Leases[0].Epoch <= a.Leases[0].Epoch {
		t.Errorf("b's epoch %d, want more than a's %d", b.Leases[0].Epoch, a.Leases[0].Epoch)
	}
	late := newsdesk.FetchState{SourceID: "src-000", ETag: `"late"`, LastFetch: storetest.T0.Add(time.Hour)}
	_, err = db.SaveFetchLeased(a.Leases[0], late, storetest.Feed("src-000", 10, storetest.T0.Add(time.Hour)), storetest.NoLimit)
	if !errors.Is(err, store.ErrLeaseLost) || !strings.Contains(err.Error(), "src-000") {
		t.Errorf("late SaveFetchLeased() error = %v, want ErrLeaseLost naming src-000", err)
	}
	if err := db.SaveStateLeased(a.Leases[0], late); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("late SaveStateLeased() error = %v, want ErrLeaseLost", err)
	}
	if n, err := db.CountItems("src-000"); err != nil || n != 3 {
		t.Errorf("after the late saves, CountItems() = %d, %v; want 3", n, err)
	}
	if got, err := db.State("src-000"); err != nil || got.ETag != st.ETag {
		t.Errorf("after the late saves, State() = %+v, %v; want ETag %s", got, err, st.ETag)
	}
	if _, err := db.SaveFetchLeased(b.Leases[0], late, storetest.Feed("src-000", 10, storetest.T0.Add(time.Hour)), storetest.NoLimit); err != nil {
		t.Errorf("b's SaveFetchLeased() error = %v", err)
	}
	if n, _ := db.CountItems("src-000"); n != 10 {
		t.Errorf("after b's save, CountItems() = %d, want 10", n)
	}
}

// TestForceReleaseNext: Force leases sources that are not due but never
// one another lease holds; Release makes a source leasable again as it
// was; Next is the earliest due time or lease expiry; SyncSources
// replaces an instance's sources and keeps stored due times.
func TestForceReleaseNext(t *testing.T) {
	db := openDB(t, newSchema(t))
	syncSources(t, db, 3, 3, "a", "b")
	now, err := db.Clock(bg)
	if err != nil {
		t.Fatal(err)
	}
	due1, due2 := now.Add(time.Hour).Truncate(time.Microsecond), now.Add(2*time.Hour).Truncate(time.Microsecond)
	for id, due := range map[string]time.Time{"src-000": due1, "src-001": due2} {
		if err := db.SaveState(newsdesk.FetchState{SourceID: id, LastFetch: now, NextDue: due}); err != nil {
			t.Fatal(err)
		}
	}
	held := lease(t, db, store.LeaseRequest{Instance: "b", Max: 5})
	if got := leasedIDs(held); !slices.Equal(got, []string{"src-002"}) {
		t.Fatalf("b leased %v, want the one source due, src-002", got)
	}
	got := lease(t, db, store.LeaseRequest{Instance: "a", Max: 5})
	if len(got.Leases) != 0 || !got.Next.Equal(held.Leases[0].Until) {
		t.Errorf("nothing due: a leased %v, Next %s; want none, Next %s (b's lease ends before src-000 is due)", leasedIDs(got), got.Next, held.Leases[0].Until)
	}
	forced := lease(t, db, store.LeaseRequest{Instance: "a", Max: 5, Force: true, Sources: []string{"src-001", "src-002"}})
	if ids := leasedIDs(forced); !slices.Equal(ids, []string{"src-001"}) || !forced.Next.Equal(held.Leases[0].Until) {
		t.Errorf("forced src-001 and src-002: leased %v, Next %s; want src-001 (src-002 is b's), Next %s (b's lease ends)", ids, forced.Next, held.Leases[0].Until)
	}
	if err := db.Release(bg, held.Leases[0]); err != nil {
		t.Fatal(err)
	}
	if err := db.Release(bg, held.Leases[0]); err != nil {
		t.Errorf("Release() of a lease ended already: %v", err)
	}
	if again := lease(t, db, store.LeaseRequest{Instance: "a", Max: 5}); !slices.Equal(leasedIDs(again), []string{"src-002"}) {
		t.Errorf("after b's Release, a leased %v, want src-002", leasedIDs(again))
	}

	// SyncSources: "c" has only src-003 and src-000 (due later, kept as
	// stored when Due is zero).
	if err := db.SyncSources(bg, "c", []store.SourceDue{{ID: "src-000", Host: "host-0"}, {ID: "src-003", Host: "host-0"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SyncSources(bg, "c", []store.SourceDue{{ID: "src-000", Host: "host-0"}, {ID: "src-004", Host: "host-0"}}); err != nil {
		t.Fatal(err)
	}
	if c := lease(t, db, store.LeaseRequest{Instance: "c", Max: 5}); !slices.Equal(leasedIDs(c), []string{"src-004"}) || !c.Next.Equal(due1) {
		t.Errorf("after SyncSources, c leased %v, Next %s; want src-004, Next %s", leasedIDs(c), c.Next, due1)
	}
	states, err := db.States()
	if err != nil || len(states) != 2 {
		t.Errorf("States() = %d states, %v; want the 2 saved (synced sources have none)", len(states), err)
	}
	if orphans, err := db.Orphans(nil); err != nil || len(orphans) != 0 {
		t.Errorf("Orphans(nil) = %v, %v; want none: instances are configured with them", orphans, err)
	}
}

// TestChangesAndListen: commits of items, states and decisions show in
// Changes, and wake a listener on another handle, which returns an error
// when its connection is terminated.
func TestChangesAndListen(t *testing.T) {
	dsn := newSchema(t)
	db, other := openDB(t, dsn), openDB(t, dsn)
	start, err := db.Changes(bg, 0)
	if err != nil || start.Seq == 0 || len(start.Sources)+len(start.Sections) != 0 {
		t.Fatalf("Changes(0) = %+v, %v; want a number and no ids", start, err)
	}
	wait, listened := listenWakes(t, db)
	if _, err := other.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: storetest.T0}, storetest.Feed("a", 2, storetest.T0), storetest.NoLimit); err != nil {
		t.Fatal(err)
	}
	wait("a fetch on another handle")
	if err := other.SetDecision("world", newsdesk.ItemRef{SourceID: "a", ID: "a-000"}, newsdesk.Pin, storetest.T0); err != nil {
		t.Fatal(err)
	}
	wait("a decision on another handle")
	ch, err := db.Changes(bg, start.Seq)
	if err != nil || !slices.Equal(ch.Sources, []string{"a"}) || !slices.Equal(ch.Sections, []string{"world"}) || ch.Seq <= start.Seq {
		t.Errorf("Changes(%d) = %+v, %v; want source a, section world, a later number", start.Seq, ch, err)
	}
	if err := other.SaveState(newsdesk.FetchState{SourceID: "b", LastFetch: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	// A change may come back once more (a transaction anywhere in the
	// cluster, another test's, was running at the last call), never a
	// change that did not happen.
	ch2, err := db.Changes(bg, ch.Seq)
	repeated := func(ids, before []string) bool {
		return !slices.ContainsFunc(ids, func(id string) bool { return !slices.Contains(before, id) })
	}
	if err != nil || !slices.Contains(ch2.Sources, "b") || !repeated(ch2.Sources, []string{"a", "b"}) || !repeated(ch2.Sections, []string{"world"}) {
		t.Errorf("Changes(%d) = %+v, %v; want source b, and at most the changes reported before again", ch.Seq, ch2, err)
	}

	admin, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(bg)
	tag, err := admin.Exec(bg, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN newsdesk_changes' AND datname = current_database()`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminating the listener: %v, %d backends; want 1", err, tag.RowsAffected())
	}
	select {
	case err := <-listened:
		if err == nil {
			t.Error("Listen() returned nil after its connection was terminated, want an error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Listen() did not return after its connection was terminated")
	}
}

// TestLeasedSaveUsesDatabaseClock: a leased save dates new items by the
// database's clock, not the caller's.
func TestLeasedSaveUsesDatabaseClock(t *testing.T) {
	db := openDB(t, newSchema(t))
	syncSources(t, db, 1, 1, "a")
	b := lease(t, db, store.LeaseRequest{Instance: "a", Max: 1})
	skewed := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	undated := newsdesk.Item{ID: "undated", Title: "No date"}
	if _, err := db.SaveFetchLeased(b.Leases[0], newsdesk.FetchState{SourceID: "src-000", LastFetch: skewed}, []newsdesk.Item{undated}, storetest.NoLimit); err != nil {
		t.Fatal(err)
	}
	after, err := db.Clock(bg)
	if err != nil {
		t.Fatal(err)
	}
	it, err := db.Item("src-000", "undated")
	if err != nil {
		t.Fatal(err)
	}
	if it.FirstSeen.Before(b.Now) || it.FirstSeen.After(after) || !it.Published.Equal(it.FirstSeen) {
		t.Errorf("FirstSeen %s, Published %s; want both the database's time, between %s and %s", it.FirstSeen, it.Published, b.Now, after)
	}
}

// TestSchemaMinReader: a database migrated beyond this binary is used
// while its migrations say this binary can (min_reader), and refused with
// ErrSchema and what to do otherwise.
func TestSchemaMinReader(t *testing.T) {
	dsn := newSchema(t)
	db := openDB(t, dsn)
	admin, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(bg)
	var known int
	if err := admin.QueryRow(bg, `SELECT max(version) FROM schema_version`).Scan(&known); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(bg, `INSERT INTO schema_version (version, min_reader) VALUES ($1, $2)`, known+1, known); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("schema %d, readable by %d: Ping() = %v", known+1, known, err)
	}
	openDB(t, dsn) // an expand-only newer schema opens
	if _, err := admin.Exec(bg, `INSERT INTO schema_version (version, min_reader) VALUES ($1, $1)`, known+2); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(bg, dsn)
	if !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "upgrade newsdesk on this machine") || !strings.Contains(err.Error(), fmt.Sprint(known+2)) {
		t.Errorf("schema %d needing %d: Open() error = %v; want ErrSchema naming the schema and the fix", known+2, known+2, err)
	}
	if err := db.Ping(); !errors.Is(err, store.ErrSchema) {
		t.Errorf("Ping() = %v, want ErrSchema", err)
	}
}

// TestConcurrentOpensMigrateOnce: three instances opening an empty schema
// at once apply each migration once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	dsn := newSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			db, err := postgres.Open(bg, dsn)
			if err == nil {
				db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	admin, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(bg)
	var rows, versions, min int
	if err := admin.QueryRow(bg, `SELECT count(*), count(DISTINCT version), min(version) FROM schema_version`).Scan(&rows, &versions, &min); err != nil {
		t.Fatal(err)
	}
	if rows != versions || min != 1 || rows < 2 {
		t.Errorf("schema_version has %d rows for %d versions from %d; want one row per version from 1", rows, versions, min)
	}
}

// TestTombstoneItemID: a pruned item's tombstone keeps its id.
func TestTombstoneItemID(t *testing.T) {
	dsn := newSchema(t)
	db := openDB(t, dsn)
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: storetest.T0}, storetest.Feed("a", 3, storetest.T0), newsdesk.Retention{MaxItems: 2}); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(bg)
	var id []byte
	if err := admin.QueryRow(bg, `SELECT item_id FROM tombstones WHERE source_id = 'a'`).Scan(&id); err != nil || string(id) != "a-002" {
		t.Errorf("tombstone item_id = %q, %v; want a-002", id, err)
	}
}

// TestInstances: Join records and refreshes an instance from the
// database's clock; Leave removes it and its sources.
func TestInstances(t *testing.T) {
	db := openDB(t, newSchema(t))
	in := store.Instance{ID: "h1-1-x", Host: "h1", Command: "serve", Version: "test", ConfigHash: "abc", Sources: 2}
	if err := db.Join(bg, in); err != nil {
		t.Fatal(err)
	}
	syncSources(t, db, 2, 1, in.ID)
	in.ConfigHash = "def"
	if err := db.Join(bg, in); err != nil {
		t.Fatal(err)
	}
	got, err := db.Instances(bg, time.Hour)
	if err != nil || len(got) != 1 || got[0].ConfigHash != "def" || got[0].Seen.Before(got[0].Started) || got[0].Started.IsZero() {
		t.Fatalf("Instances() = %+v, %v; want h1-1-x with hash def, seen after started", got, err)
	}
	if err := db.Leave(bg, in.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Instances(bg, time.Hour); err != nil || len(got) != 0 {
		t.Errorf("after Leave, Instances() = %+v, %v; want none", got, err)
	}
	if b := lease(t, db, store.LeaseRequest{Instance: in.ID, Max: 5}); len(b.Leases) != 0 {
		t.Errorf("after Leave, the instance leased %v, want nothing (no sources)", leasedIDs(b))
	}
}

// BenchmarkLease measures leasing: lease and SaveStateLeased of 1,000
// sources, 16 at a time, per iteration.
func BenchmarkLease(b *testing.B) {
	dsn := newSchema(b)
	db := openDB(b, dsn)
	syncSources(b, db, 1000, 50, "bench")
	admin, err := pgx.Connect(bg, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(bg)
	leased := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if _, err := admin.Exec(bg, `UPDATE sources SET due_at = NULL`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for {
			batch := lease(b, db, store.LeaseRequest{Instance: "bench", Max: 16, PerHost: 4})
			if len(batch.Leases) == 0 {
				break
			}
			for _, l := range batch.Leases {
				if err := db.SaveStateLeased(l, done(l)); err != nil {
					b.Fatal(err)
				}
			}
			leased += len(batch.Leases)
		}
	}
	b.ReportMetric(float64(leased)/b.Elapsed().Seconds(), "leases/s")
}

// TestPerHostRace: three instances configured with different sources of
// one host, asking for its one slot at the same moment, get one source
// between them, round after round.
func TestPerHostRace(t *testing.T) {
	db := openDB(t, newSchema(t))
	for i := range 3 {
		mine := []store.SourceDue{{ID: fmt.Sprintf("src-%d", i), Host: "one"}, {ID: fmt.Sprintf("src-%d", i+3), Host: "one"}}
		if err := db.SyncSources(bg, fmt.Sprintf("instance-%d", i), mine); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 40 {
		start := make(chan struct{})
		results := make(chan store.LeaseBatch, 3)
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				<-start
				b, err := db.Lease(bg, store.LeaseRequest{Instance: fmt.Sprintf("instance-%d", i), Max: 2, PerHost: 1, For: time.Minute})
				if err != nil {
					t.Error(err)
				}
				results <- b
			})
		}
		close(start)
		wg.Wait()
		close(results)
		var got []store.Lease
		for b := range results {
			got = append(got, b.Leases...)
		}
		if len(got) != 1 {
			t.Fatalf("round %d: %d sources of one host leased at once with per_host 1, want 1", round, len(got))
		}
		if err := db.Release(bg, got[0]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLeaseWaitingForAHostIsDatedWhenGranted: a lease that waited for its
// host's advisory lock (held by another instance's lease transaction,
// paused in the middle of it until the server ends its session) is dated
// from when it is granted, not from when its transaction began: dated
// from the beginning, it was granted already expired (seen in
// TestCluster/RejectsLateWrite: another instance leased the host's slot
// again while it fetched, 3 and 4 requests in flight with per_host 2).
func TestLeaseWaitingForAHostIsDatedWhenGranted(t *testing.T) {
	dsn := newSchema(t)
	db := openDB(t, dsn)
	syncSources(t, db, 1, 1, "instance-0") // src-000 on host-0
	connect := func() *pgx.Conn {
		conn, err := pgx.Connect(bg, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(bg) })
		return conn
	}
	holder, watcher := connect(), connect()
	tx, err := holder.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(bg)
	// The lock Lease takes for host-0: (hostLocks, hashtext(host)).
	if _, err := tx.Exec(bg, `SELECT pg_advisory_xact_lock($1, hashtext('host-0'))`, int32(0x6e657773)); err != nil {
		t.Fatal(err)
	}
	type result struct {
		b   store.LeaseBatch
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := db.Lease(bg, store.LeaseRequest{Instance: "instance-0", Max: 1, PerHost: 1, For: time.Minute})
		done <- result{b, err}
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting int
		if err := watcher.QueryRow(bg, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease never waited for the host's lock")
		}
		time.Sleep(10 * time.Millisecond) // polling the server's view, with a deadline
	}
	var released time.Time
	if err := tx.QueryRow(bg, `SELECT clock_timestamp()`).Scan(&released); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(bg); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || len(r.b.Leases) != 1 {
		t.Fatalf("Lease() = %+v, %v; want src-000 leased", r.b, r.err)
	}
	l := r.b.Leases[0]
	if l.Now.Before(released) || l.Until.Sub(l.Now) != time.Minute {
		t.Errorf("lease dated %s until %s; want dated after the host's lock was released (%s) and a minute long", l.Now, l.Until, released.UTC())
	}
}

// listenWakes listens on db until the test ends and returns a wait that
// returns at its next call back (the first: listening), failing the test
// after 30 seconds or when Listen returns, and what Listen returns.
func listenWakes(t *testing.T, db *postgres.DB) (wait func(what string), listened <-chan error) {
	t.Helper()
	woken := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(bg)
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- db.Listen(ctx, func() { woken <- struct{}{} }) }()
	wait = func(what string) {
		t.Helper()
		select {
		case <-woken:
		case err := <-done:
			t.Fatalf("Listen() returned %v, waiting for %s", err, what)
		case <-time.After(30 * time.Second):
			t.Fatalf("Listen() did not call back for %s", what)
		}
	}
	wait("listening")
	return wait, done
}
