//go:build linux

package main

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
)

// TestCluster runs the multi-instance scenarios (issue 11's guarantees,
// as a publisher and a reader see them): three `newsdesk serve` of the real
// binary on one feeds.yaml and one PostgreSQL schema, fetching from
// clusterOrigin. Each scenario has its own schema and origin, so they run
// in parallel; much of their time is spent waiting for a lease to expire.
//
// The binary is built once, without the race detector even under -race:
// three instances rendering every commit under it would take minutes.
func TestCluster(t *testing.T) {
	pgtest.DSN(t) // skips without a database
	bin := filepath.Join(t.TempDir(), "newsdesk")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, s := range []struct {
		name string
		run  func(t *testing.T, bin string)
	}{
		{"StartsTogether", clusterStartsTogether},
		{"SurvivesKill", clusterSurvivesKill},
		{"RejectsLateWrite", clusterRejectsLateWrite},
		{"ConvergesWithoutNotifications", clusterConvergesWithoutNotifications},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.run(t, bin)
		})
	}
}

// allStored is what every source holds after one fetch of its first
// version.
func allStored(int) int { return itemsPerVersion }

// clusterStartsTogether: three instances started at once on an empty
// database migrate it once, share the sources between them (each fetched
// once, never two fetches of one source at a time, never more than
// per_host requests in flight to a host across the cluster), store every
// item, and serve the same bytes with the same ETag, so that a reader's
// If-None-Match from one gets 304 from another. Stopped, each exits 0.
func clusterStartsTogether(t *testing.T, bin string) {
	c := newCluster(t, bin, clusterSources(t))
	ins := c.start(3)
	eventually(t, c.passTime(), "every source fetched and stored", func() string { return c.stored(allStored) })

	// Where status lists the instances sharing the store, it lists these
	// three, on one feeds.yaml, with no warning.
	if st := c.status(); st.Instances != nil {
		hashes := map[string]int{}
		for _, in := range st.Instances {
			if in.Command == "serve" {
				hashes[in.ConfigHash]++
			}
		}
		if len(hashes) != 1 || slices.Collect(maps.Values(hashes))[0] != len(ins) || len(st.Warnings) > 0 {
			t.Errorf("status lists serve instances by config hash %v, warnings %q; want %d on one hash, no warning", hashes, st.Warnings, len(ins))
		}
	}

	rows := c.queryInt(`SELECT count(*) FROM schema_version`)
	versions := c.queryInt(`SELECT count(DISTINCT version) FROM schema_version`)
	latest := c.queryInt(`SELECT max(version) FROM schema_version`)
	if rows == 0 || rows != versions || rows != latest {
		t.Errorf("schema_version has %d rows for %d versions, latest %d: want each migration applied once", rows, versions, latest)
	}

	fetches := c.origin.requests(func(originFetch) bool { return true })
	perSource, perPID := map[string]int{}, map[int]int{}
	for _, f := range fetches {
		perSource[f.Source]++
		perPID[f.PID]++
	}
	for i := range c.n {
		if n := perSource[sourceID(i)]; n != 1 {
			t.Errorf("%s was fetched %d times, want once: the instances share the sources", sourceID(i), n)
		}
	}
	for _, in := range ins {
		delete(perPID, in.pid())
	}
	if len(perPID) > 0 {
		t.Errorf("requests from processes that are not the instances (pid 0: unknown): %v", perPID)
	}
	t.Logf("%d fetches, by instance: %v", len(fetches), fetchesByPID(fetches))
	checkPolite(t, c.origin, nil)
	// The slow host's fetches did wait for each other: the limit was
	// reached, so the check above put it to the test.
	if slow := c.origin.hosts[0].Listener.Addr().String(); c.origin.maxInFlight(nil)[slow] != clusterPerHost {
		t.Errorf("the slow host %s never had per_host (%d) requests in flight at once: %v", slow, clusterPerHost, c.origin.maxInFlight(nil))
	}

	// "all" begins with the newest story and ends with the 50th newest;
	// h2 (sources i%3 == 1) begins with its newest source's newest story.
	newestH2 := c.n - 1 - (c.n-2)%3
	for path, want := range map[string][]string{
		"/sections/all.rss":  {c.origin.storyLink(c.n-1, 1, itemsPerVersion-1), c.origin.storyLink(c.n-10, 1, 0)},
		"/sections/all.atom": {c.origin.storyLink(c.n-1, 1, itemsPerVersion-1)},
		"/sections/h2.json":  {c.origin.storyLink(newestH2, 1, itemsPerVersion-1)},
	} {
		etag, _ := c.converge(ins, path, want...)
		for _, in := range ins[1:] {
			if code, _, _ := httpGet(t, in.url, path, etag); code != http.StatusNotModified {
				t.Errorf("GET %s from %s with If-None-Match %s (from %s) = %d, want 304", path, in.name, etag, ins[0].name, code)
			}
		}
	}

	for _, in := range ins {
		if err := in.stop(); err != nil {
			t.Errorf("%s stopped by SIGTERM: %v, want exit 0", in.name, err)
		}
	}
}

// clusterSurvivesKill: an instance killed (SIGKILL) in the middle of
// the first pass, with fetches in flight, loses nothing that it committed,
// and the sources it had leased are fetched by the others once its leases
// expire, never while its fetch was in flight.
func clusterSurvivesKill(t *testing.T, bin string) {
	c := newCluster(t, bin, clusterSources(t))
	// The victim's requests after its tenth are held: it dies with them
	// in flight, having committed others.
	victim, seen := 0, 0
	c.origin.hold(func(f *originFetch) bool {
		if f.PID == 0 || f.PID != victim {
			return false
		}
		seen++
		return seen > 10
	})
	ins := c.start(3)
	c.origin.mu.Lock()
	victim = ins[0].pid()
	c.origin.mu.Unlock()

	inFlight := func() []originFetch {
		return c.origin.requests(func(f originFetch) bool { return f.Held && f.PID == victim })
	}
	eventually(t, 60*time.Second, ins[0].name+" holding a request in flight", func() string {
		if len(inFlight()) == 0 {
			return "no request of it held yet"
		}
		return ""
	})
	ins[0].signal(t, syscall.SIGKILL)
	<-ins[0].exited
	committedBefore := c.origin.requests(func(f originFetch) bool { return f.PID == victim && f.Status == http.StatusOK })
	t.Logf("%s killed with %d fetches in flight, after %d answered", ins[0].name, len(inFlight()), len(committedBefore))

	eventually(t, c.passTime(), "every source fetched and stored by the survivors", func() string { return c.stored(allStored) })
	for _, held := range inFlight() {
		after := c.origin.requests(func(f originFetch) bool {
			return f.Source == held.Source && f.PID != victim && f.Status == http.StatusOK && !f.Start.Before(held.End)
		})
		if len(after) == 0 {
			t.Errorf("%s, in flight at %s when it was killed, was not fetched by another instance after it", held.Source, ins[0].name)
		}
	}
	checkPolite(t, c.origin, nil)
	c.converge(ins[1:], "/sections/all.rss", c.origin.storyLink(c.n-1, 1, itemsPerVersion-1))
}

// clusterRejectsLateWrite: an instance paused (SIGSTOP) with a fetch in
// flight, past its lease, while another instance fetches that source
// again (a newer version of the feed), cannot overwrite the newer work
// once it runs again (SIGCONT): its write is rejected and logged, the
// source keeps the newer items only, and the paused instance starts no
// fetch on the leases it held. Apart from the paused instance's abandoned
// requests, no two fetches of a source overlap.
func clusterRejectsLateWrite(t *testing.T, bin string) {
	c := newCluster(t, bin, clusterSources(t))
	const late = 7 // the source whose first fetch is held
	first := true
	c.origin.hold(func(f *originFetch) bool {
		if f.Feed != late || !first {
			return false
		}
		first = false
		return true
	})
	ins := c.start(3)
	var held originFetch
	eventually(t, 60*time.Second, "the first fetch of "+sourceID(late)+" held", func() string {
		fs := c.origin.requests(func(f originFetch) bool { return f.Held })
		if len(fs) == 0 {
			return "not requested yet"
		}
		held = fs[0]
		return ""
	})
	i := slices.IndexFunc(ins, func(in *clusterInstance) bool { return in.pid() == held.PID })
	if i < 0 {
		t.Fatalf("the held request of %s came from pid %d, not an instance", sourceID(late), held.PID)
	}
	paused := ins[i]
	paused.signal(t, syscall.SIGSTOP)
	stoppedAt := time.Now()
	if v := c.origin.bump(late); v != 2 {
		t.Fatalf("version %d, want 2", v)
	}
	eventually(t, c.passTime(), "every source stored, "+sourceID(late)+" at version 2 by another instance", func() string {
		if len(c.origin.requests(func(f originFetch) bool {
			return f.Feed == late && f.Version == 2 && f.Status == http.StatusOK && f.PID != paused.pid()
		})) == 0 {
			return sourceID(late) + " not fetched again yet"
		}
		return c.stored(allStored) // of version 2 only: version 1 was never stored
	})

	c.origin.release(held) // its answer waits in the paused instance's socket
	beforeCont := time.Now()
	paused.signal(t, syscall.SIGCONT)
	continuedAt := time.Now()
	lost := regexp.MustCompile(`(?i)late write|lease lost`)
	eventually(t, 30*time.Second, paused.name+" logging its late write of "+sourceID(late)+" rejected", func() string {
		for _, rec := range paused.records() {
			line := fmt.Sprint(rec)
			if lost.MatchString(line) && strings.Contains(line, sourceID(late)) {
				return ""
			}
		}
		return "no such line in its log"
	})
	if why := c.stored(allStored); why != "" {
		t.Errorf("after the late write: %s", why)
	}
	if fs := c.origin.requests(func(f originFetch) bool { return f.PID == paused.pid() && f.Start.After(continuedAt) }); len(fs) > 0 {
		t.Errorf("%s started %d fetches after SIGCONT (e.g. %s %s), with nothing due: on leases that had expired?", paused.name, len(fs), fs[0].Source, span(fs[0]))
	}
	select {
	case <-paused.exited:
		t.Fatalf("%s exited after SIGCONT: %v", paused.name, paused.err)
	default:
	}
	// The paused instance's requests in flight when it stopped are the
	// abandoned ones the overlap rule leaves out. One it sent just before
	// SIGSTOP may reach the origin just after (on a loaded machine): a
	// stopped process sends nothing, so every request of its seen before
	// SIGCONT and not ended by SIGSTOP is one of them.
	abandoned := func(f originFetch) bool {
		return f.PID == paused.pid() && f.Start.Before(beforeCont) && (f.End.IsZero() || f.End.After(stoppedAt))
	}
	checkPolite(t, c.origin, abandoned)
	_, body := c.converge(ins, fmt.Sprintf("/sections/h%d.rss", late%3+1), c.origin.storyLink(late, 2, 0))
	if bytes.Contains(body, []byte(c.origin.storyLink(late, 1, 0))) {
		t.Errorf("the section shows %s's version 1, whose write came late", sourceID(late))
	}
}

// clusterConvergesWithoutNotifications: with the instances' LISTEN
// connections terminated by the server (and again whenever one comes
// back), a commit by another process (`newsdesk run -force`) still
// reaches every instance: the periodic check of changes is the backstop.
func clusterConvergesWithoutNotifications(t *testing.T, bin string) {
	c := newCluster(t, bin, clusterSources(t))
	ins := c.start(3)
	eventually(t, c.passTime(), "every source fetched and stored", func() string { return c.stored(allStored) })
	const changed = 0
	c.converge(ins, "/sections/all.rss", c.origin.storyLink(c.n-1, 1, itemsPerVersion-1))

	listeners := `FROM pg_stat_activity WHERE application_name = $1 AND query ~* '^\s*listen\M'`
	eventually(t, 30*time.Second, "every instance listening", func() string {
		if n := c.queryInt(`SELECT count(*) `+listeners, c.app); n < int64(len(ins)) {
			return fmt.Sprintf("%d LISTEN connections", n)
		}
		return ""
	})
	if n := c.queryInt(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) `+listeners, c.app); n < int64(len(ins)) {
		t.Fatalf("terminated %d LISTEN connections, want %d", n, len(ins))
	}
	c.origin.bump(changed)
	c.newsdesk("run", "-force", "-source", sourceID(changed))
	if why := c.stored(func(i int) int { return itemsPerVersion * (1 + btoi(i == changed)) }); why != "" {
		t.Fatalf("after newsdesk run: %s", why)
	}
	newer := c.origin.storyLink(changed, 2, itemsPerVersion-1)
	eventually(t, 30*time.Second, "every instance serving the new version", func() string {
		c.queryInt(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) `+listeners, c.app) // notifications stay lost
		for _, in := range ins {
			if _, _, body := httpGet(t, in.url, "/sections/all.rss", ""); !bytes.Contains(body, []byte(newer)) {
				return in.name + " serves the old version"
			}
		}
		return ""
	})
	c.converge(ins, "/sections/all.rss", newer)
	for _, in := range ins {
		if code, _, body := httpGet(t, in.url, "/readyz", ""); code != http.StatusOK {
			t.Errorf("%s /readyz = %d %q after losing its listener, want 200", in.name, code, body)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkPolite fails the test for any two overlapping fetches of a source
// and any host with more than per_host requests in flight, leaving out
// the requests exempt picks.
func checkPolite(t *testing.T, o *clusterOrigin, exempt func(originFetch) bool) {
	t.Helper()
	if ov := o.overlaps(exempt); len(ov) > 0 {
		t.Errorf("%d overlapping fetches of a source, e.g.:\n%s", len(ov), strings.Join(ov[:min(5, len(ov))], "\n"))
	}
	for host, n := range o.maxInFlight(exempt) {
		if n > clusterPerHost {
			t.Errorf("%s had %d requests in flight at once across the cluster, want at most per_host %d; first over it:\n%s",
				host, n, clusterPerHost, strings.Join(o.crowd(exempt, host, clusterPerHost), "\n"))
		}
	}
}

func fetchesByPID(fs []originFetch) map[int]int {
	out := map[int]int{}
	for _, f := range fs {
		out[f.PID]++
	}
	return out
}

// converge waits until every instance of ins serves path with one ETag
// and the same bytes, containing each of want, and returns them.
func (c *clusterTest) converge(ins []*clusterInstance, path string, want ...string) (string, []byte) {
	c.t.Helper()
	var etag string
	var body []byte
	eventually(c.t, 30*time.Second, "every instance serving the same "+path, func() string {
		etag, body = "", nil
		for _, in := range ins {
			code, e, b := httpGet(c.t, in.url, path, "")
			switch {
			case code != http.StatusOK || e == "":
				return fmt.Sprintf("%s: %d, ETag %q", in.name, code, e)
			case body == nil:
				etag, body = e, b
			case e != etag || !bytes.Equal(b, body):
				return fmt.Sprintf("%s: ETag %s, %s: ETag %s (bodies equal: %v%s)", ins[0].name, etag, in.name, e, bytes.Equal(b, body), firstDifference(body, b))
			}
			for _, w := range want {
				if !bytes.Contains(b, []byte(w)) {
					return fmt.Sprintf("%s: no %s in it", in.name, w)
				}
			}
		}
		return ""
	})
	return etag, body
}

// firstDifference describes the first line where two bodies differ, for a
// failure message: whether an instance is behind (an item missing) or
// dates the same content otherwise (a version of its own).
func firstDifference(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y []byte
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if !bytes.Equal(x, y) {
			cut := func(l []byte) []byte { return bytes.TrimSpace(l[:min(len(l), 200)]) }
			return fmt.Sprintf("; first difference at line %d: %q vs %q", i+1, cut(x), cut(y))
		}
	}
	return ""
}
