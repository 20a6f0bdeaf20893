package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/storetest"
	bbolt "go.etcd.io/bbolt"
)

func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "newsdesk.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// save is one call of a workload: a fetch with items, or a state alone.
type save struct {
	st    newsdesk.FetchState
	items []newsdesk.Item // nil: SaveState
	keep  newsdesk.Retention
}

func (s save) run(db *DB) (newsdesk.FetchState, error) {
	if s.items == nil {
		return s.st, db.SaveState(s.st)
	}
	return db.SaveFetch(s.st, s.items, s.keep)
}

// rounds is a workload of sources fetched round after round: each fetch
// brings new items and, with retention, prunes old ones; some sources
// answer 304 (SaveState) in some rounds.
func rounds(sources, n int) [][]save {
	var out [][]save
	for r := range n {
		var round []save
		now := storetest.T0.Add(time.Duration(r) * time.Hour)
		for s := range sources {
			src := fmt.Sprintf("src%02d", s)
			st := newsdesk.FetchState{SourceID: src, LastFetch: now, ETag: fmt.Sprintf(`"%d"`, r),
				History: []newsdesk.Attempt{{At: now}}}
			if (s+r)%4 == 3 {
				st.Result = newsdesk.ResultNotModified
				round = append(round, save{st: st})
				continue
			}
			st.Result = newsdesk.ResultOK
			items := make([]newsdesk.Item, 6)
			for i := range items {
				n := r*3 + i // half of each fetch was in the one before
				items[i] = storetest.Item(src, fmt.Sprintf("%s-%03d", src, n), storetest.T0.Add(time.Duration(n)*time.Minute))
				items[i].Link = fmt.Sprintf("https://example.com/%d", n) // shared by sources: duplicates
			}
			round = append(round, save{st: st, items: items, keep: newsdesk.Retention{MaxItems: 8}})
		}
		out = append(out, round)
	}
	return out
}

// dump is every key and value in the file, bucket by bucket.
func dump(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	var walk func(path string, b *bbolt.Bucket) error
	walk = func(path string, b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil && b.Bucket(k) != nil {
				return walk(path+"/"+string(k), b.Bucket(k))
			}
			out = append(out, fmt.Sprintf("%s %q = %q", path, k, v))
			return nil
		})
	}
	err := db.view(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error { return walk(string(name), b) })
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// serial saves the workload one call at a time and returns what each call
// returned, by source and round, and the file's contents.
func serial(t *testing.T, work [][]save) (map[string]newsdesk.FetchState, []string) {
	t.Helper()
	db := openTestDB(t)
	got := map[string]newsdesk.FetchState{}
	for r, round := range work {
		for _, s := range round {
			st, err := s.run(db)
			if err != nil {
				t.Fatal(err)
			}
			got[fmt.Sprint(s.st.SourceID, r)] = st
		}
	}
	return got, dump(t, db)
}

func sameSaves(t *testing.T, got, want map[string]newsdesk.FetchState, gotFile, wantFile []string) {
	t.Helper()
	for k, w := range want {
		if g := got[k]; !reflect.DeepEqual(g, w) {
			t.Errorf("save %s returned %+v; serially %+v", k, g, w)
		}
	}
	if !slices.Equal(gotFile, wantFile) {
		t.Errorf("file after concurrent saves differs from serial saves: %d entries, want %d", len(gotFile), len(wantFile))
		for _, line := range wantFile {
			if !slices.Contains(gotFile, line) {
				t.Errorf("missing: %s", line)
				break
			}
		}
	}
}

// TestConcurrentSavesMatchSerial: many goroutines saving at once all
// commit, and leave the file byte for byte as the same saves made one by
// one, returning the same states.
func TestConcurrentSavesMatchSerial(t *testing.T) {
	work := rounds(24, 5)
	want, wantFile := serial(t, work)
	db := openTestDB(t)
	var mu sync.Mutex
	got := map[string]newsdesk.FetchState{}
	var wg sync.WaitGroup
	for s := range work[0] { // one goroutine per source, its rounds in order
		wg.Go(func() {
			for r := range work {
				st, err := work[r][s].run(db)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[fmt.Sprint(st.SourceID, r)] = st
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sameSaves(t, got, want, dump(t, db), wantFile)
}

// holdCommit starts a commit whose function runs until the returned
// release is called: saves made meanwhile queue, and commit as one group
// when it ends. release returns the held commit's own result.
func holdCommit(t *testing.T, db *DB) (release func() error) {
	t.Helper()
	running, end, result := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		result <- db.commit(1, func(*bbolt.Tx) error {
			close(running)
			<-end
			return nil
		})
	}()
	<-running
	return func() error {
		close(end)
		return <-result
	}
}

// waitQueued waits until n functions are queued to commit.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	waitCommitter(t, db, fmt.Sprintf("%d functions queued", n), func(c *committer) bool { return len(c.queue) >= n })
}

// waitCommitter polls db's committer until cond holds, for 10 s at most.
func waitCommitter(t *testing.T, db *DB, what string, cond func(*committer) bool) {
	t.Helper()
	c := &db.health.commits
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		ok := cond(c)
		c.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("committer not %s after 10 s", what)
		}
	}
}

// group queues calls, each in a goroutine of its own and in order, behind
// a held commit, so that they commit as one group, and returns their
// results.
func group(t *testing.T, db *DB, calls ...func() error) []error {
	t.Helper()
	release := holdCommit(t, db)
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
		waitQueued(t, db, i+1) // queued in this order
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return errs
}

// txID is a commit that records the id of the transaction it ran in.
func txID(db *DB, id *int) func() error {
	return func() error {
		return db.commit(1, func(tx *bbolt.Tx) error {
			*id = tx.ID()
			return nil
		})
	}
}

// TestQueuedSavesShareACommit: saves queued while a commit runs share the
// next transaction, and leave the file as serial saves do.
func TestQueuedSavesShareACommit(t *testing.T) {
	work := rounds(20, 3)
	want, wantFile := serial(t, work)
	db := openTestDB(t)
	got := map[string]newsdesk.FetchState{}
	for r, round := range work {
		var first, last int
		calls := []func() error{txID(db, &first)}
		states := make([]newsdesk.FetchState, len(round))
		for i, s := range round {
			calls = append(calls, func() (err error) {
				states[i], err = s.run(db)
				return err
			})
		}
		calls = append(calls, txID(db, &last))
		for _, err := range group(t, db, calls...) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if first != last {
			t.Errorf("round %d: the group's first function ran in transaction %d, its last in %d; want one transaction", r, first, last)
		}
		for i, st := range states {
			got[fmt.Sprint(round[i].st.SourceID, r)] = st
		}
	}
	sameSaves(t, got, want, dump(t, db), wantFile)
}

// TestFailingFunctionKeepsItsGroup: when one function of a group fails,
// the others still commit, each caller gets its own result, and what the
// failing one wrote is rolled back. Every function of the group ran again
// alone, SaveFetch too: its counts are those of one run.
func TestFailingFunctionKeepsItsGroup(t *testing.T) {
	work := rounds(3, 1)[0]
	_, wantFile := serial(t, [][]save{work})
	db := openTestDB(t)
	boom := errors.New("boom")
	runs := 0
	failing := func() error {
		return db.commit(1, func(tx *bbolt.Tx) error {
			runs++
			if err := tx.Bucket(bucketState).Put([]byte("failing"), []byte("{}")); err != nil {
				return err
			}
			return boom
		})
	}
	states := make([]newsdesk.FetchState, len(work))
	calls := []func() error{failing}
	for i, s := range work {
		calls = append(calls, func() (err error) {
			states[i], err = s.run(db)
			return err
		})
	}
	calls[0], calls[2] = calls[2], calls[0] // the failing one in the middle
	errs := group(t, db, calls...)
	if !errors.Is(errs[2], boom) {
		t.Errorf("failing function's error = %v, want %v", errs[2], boom)
	}
	for i, err := range slices.Delete(errs, 2, 3) {
		if err != nil {
			t.Errorf("save %d of the group: %v", i, err)
		}
	}
	if runs != 2 {
		t.Errorf("failing function ran %d times, want 2 (in the group, then alone)", runs)
	}
	for i, st := range states {
		if work[i].items != nil && st.New != len(work[i].items) {
			t.Errorf("SaveFetch of %s returned New = %d, want %d", st.SourceID, st.New, len(work[i].items))
		}
	}
	if got := dump(t, db); !slices.Equal(got, wantFile) {
		t.Errorf("file after the group:\n%s\nwant (the other saves only):\n%s", strings.Join(got, "\n"), strings.Join(wantFile, "\n"))
	}
}

// TestPanicInGroupIsDamage: a panic in one function of a group (as bbolt
// panics on a damaged page) is a DamagedError for every caller in the
// group, not a crash; later saves fail at once and Close returns.
func TestPanicInGroupIsDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	work := rounds(4, 1)[0]
	calls := []func() error{func() error {
		return db.commit(1, func(*bbolt.Tx) error { panic("assertion failed: Page expected to be a leaf") })
	}}
	for _, s := range work {
		calls = append(calls, func() error { _, err := s.run(db); return err })
	}
	for i, err := range group(t, db, calls...) {
		if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), path) {
			t.Errorf("call %d of the group: error = %v, want a DamagedError naming %s", i, err, path)
		}
	}
	if _, err := work[0].run(db); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("save after the panic: error = %v, want ErrDamaged", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("Close after the panic: %v", err)
	}
	// The panic rolled the transaction back: nothing of the group is stored.
	wantNoStates(t, path)
}

// wantNoStates checks that the closed database at path holds no state.
func wantNoStates(t *testing.T, path string) {
	t.Helper()
	db, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if states, err := db.States(); err != nil || len(states) != 0 {
		t.Errorf("States() = %d states, %v; want none", len(states), err)
	}
}

// TestCloseFailsQueuedSaves: saves queued when the database is closed
// return an error rather than wait forever, and store nothing.
func TestCloseFailsQueuedSaves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	work := rounds(5, 1)[0]
	release := holdCommit(t, db)
	errs := make([]error, len(work))
	var wg sync.WaitGroup
	for i, s := range work {
		wg.Go(func() { _, errs[i] = s.run(db) })
	}
	waitQueued(t, db, len(work))
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	// Close waits for the held commit; it closes the queue first.
	waitCommitter(t, db, "closed", func(c *committer) bool { return c.closed })
	if err := release(); err != nil {
		t.Errorf("the held commit: %v", err)
	}
	wg.Wait()
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "is closed") {
			t.Errorf("save %d queued at Close: error = %v, want the database is closed", i, err)
		}
	}
	if _, err := work[0].run(db); err == nil {
		t.Error("save after Close succeeded")
	}
	wantNoStates(t, path)
}

// TestGroupsAreBounded: a group takes queued functions in order up to
// maxGroupCalls and maxGroupWeight, and always at least one.
func TestGroupsAreBounded(t *testing.T) {
	queue := func(weights ...int) *committer {
		c := &committer{}
		for _, w := range weights {
			c.queue = append(c.queue, &pending{weight: w})
		}
		return c
	}
	many := make([]int, maxGroupCalls+5)
	for i := range many {
		many[i] = 1
	}
	for _, tc := range []struct {
		name    string
		weights []int
		want    []int // sizes of the groups taken
	}{
		{"one", []int{1}, []int{1}},
		{"under the weight", []int{51, 51, 1}, []int{3}},
		{"weight reached", []int{1, maxGroupWeight - 1, 1, 1}, []int{2, 2}},
		{"heavy one alone", []int{maxGroupWeight + 10, 1}, []int{1, 1}},
		{"heavy one after", []int{1, maxGroupWeight + 10}, []int{1, 1}},
		{"calls", many, []int{maxGroupCalls, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := queue(tc.weights...)
			var sizes []int
			for len(c.queue) > 0 {
				g, _ := c.take()
				sizes = append(sizes, len(g))
			}
			if !slices.Equal(sizes, tc.want) {
				t.Errorf("groups of %v = %v, want %v", tc.weights, sizes, tc.want)
			}
		})
	}
}
