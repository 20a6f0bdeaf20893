//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/status"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
)

// The multi-instance tests run the real binary: `newsdesk serve` three
// times on one feeds.yaml and one PostgreSQL schema of the test's own, with
// short leases, against clusterOrigin.

// clusterLease and clusterTimeout are the tests' storage.lease and the
// sources' timeout: a lease must outlast the longest timeout by
// config.LeaseMargin.
const (
	clusterLease   = 10 * time.Second
	clusterTimeout = 5 * time.Second
	clusterPerHost = 2
)

// clusterSources is how many sources the tests configure: 200, or
// NEWSDESK_TEST_CLUSTER_SOURCES (e.g. 2000) when set.
func clusterSources(t testing.TB) int {
	s := os.Getenv("NEWSDESK_TEST_CLUSTER_SOURCES")
	if s == "" {
		return 200
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 10 {
		t.Fatalf("NEWSDESK_TEST_CLUSTER_SOURCES=%q: want a number of sources, at least 10", s)
	}
	return n
}

// clusterTest is one multi-instance test's world: the origin, feeds.yaml, a
// PostgreSQL schema of its own, and the instances running on them.
type clusterTest struct {
	t      *testing.T
	bin    string // the newsdesk binary
	dir    string
	config string // feeds.yaml
	dsn    string // the schema's URL, as feeds.yaml gives it
	app    string // the instances' application_name: their connections in pg_stat_activity
	origin *clusterOrigin
	n      int // sources

	mu        sync.Mutex
	instances []*clusterInstance
	unstored  []string // the sources stored found not stored as expected, last time
}

// newCluster makes a cluster of n sources on an empty schema, whose
// instances and commands run the newsdesk binary bin; no instance runs
// yet.
func newCluster(t *testing.T, bin string, n int) *clusterTest {
	dsn, schema := pgtest.Schema(t) // dropped after the instances stop (cleanups run last first)
	c := &clusterTest{t: t, bin: bin, dir: t.TempDir(), n: n, dsn: dsn, app: schema}
	c.origin = newClusterOrigin(t, n)
	c.config = filepath.Join(c.dir, "feeds.yaml")
	if err := os.WriteFile(c.config, []byte(c.feedsYAML()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stopAll)
	return c
}

// passTime bounds the wait for a pass over every source: generous, for a
// machine shared with other work (90s for 200 sources).
func (c *clusterTest) passTime() time.Duration {
	return 60*time.Second + time.Duration(c.n)*150*time.Millisecond
}

// feedsYAML is the cluster's feeds.yaml: every source tagged wire and
// with its host (h1, h2, h3); a section of all of them and one per host.
func (c *clusterTest) feedsYAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, `storage:
  postgres: %s
  lease: %s
server:
  base_url: http://news.example/
fetch:
  concurrency: 4
  per_host: %d
defaults:
  interval: 10m
  timeout: %s
sources:
`, strconv.Quote(c.dsn), clusterLease, clusterPerHost, clusterTimeout)
	for i := range c.n {
		fmt.Fprintf(&b, "  - id: %s\n    url: %s\n    tags: [wire, h%d]\n", sourceID(i), c.origin.feedURL(i), i%3+1)
	}
	b.WriteString("sections:\n  - id: all\n    tags: [wire]\n    limit: 50\n")
	for h := 1; h <= 3; h++ {
		fmt.Fprintf(&b, "  - id: h%d\n    tags: [h%d]\n    limit: 20\n", h, h)
	}
	return b.String()
}

// clusterInstance is one `newsdesk serve` of the cluster.
type clusterInstance struct {
	name   string
	cmd    *exec.Cmd
	log    string // its stderr: JSON log lines
	url    string // where it serves, once it said so
	exited chan struct{}
	err    error // how it exited, once exited is closed
}

func (in *clusterInstance) pid() int { return in.cmd.Process.Pid }

// start starts n instances at once and waits until each serves.
func (c *clusterTest) start(n int) []*clusterInstance {
	c.t.Helper()
	var started []*clusterInstance
	for range n {
		started = append(started, c.launch())
	}
	for _, in := range started {
		c.waitServing(in)
	}
	return started
}

// launch starts one instance without waiting for it.
func (c *clusterTest) launch() *clusterInstance {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	in := &clusterInstance{name: fmt.Sprintf("serve%d", len(c.instances)), exited: make(chan struct{})}
	in.log = filepath.Join(c.dir, in.name+".log")
	f, err := os.Create(in.log)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	in.cmd = exec.Command(c.bin, "serve", "-config", c.config, "-listen", "127.0.0.1:0", "-log-format", "json")
	in.cmd.Dir, in.cmd.Stdout, in.cmd.Stderr = c.dir, f, f
	if err := in.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.origin.addPID(in.pid())
	go func() {
		in.err = in.cmd.Wait()
		close(in.exited)
	}()
	c.instances = append(c.instances, in)
	return in
}

func (c *clusterTest) all() []*clusterInstance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*clusterInstance(nil), c.instances...)
}

// waitServing waits for the instance's "serving" log line and takes its
// address from it.
func (c *clusterTest) waitServing(in *clusterInstance) {
	c.t.Helper()
	eventually(c.t, 60*time.Second, in.name+" serving", func() string {
		select {
		case <-in.exited:
			return "" // reported below
		default:
		}
		for _, rec := range in.records() {
			if rec["msg"] == "serving" {
				in.url = strings.TrimSuffix(fmt.Sprint(rec["url"]), "/")
				return ""
			}
		}
		return "no \"serving\" line in its log yet"
	})
	if in.url == "" {
		c.t.Fatalf("%s exited before serving (%v):\n%s", in.name, in.err, tail(in.log, 30))
	}
}

// records returns the instance's log lines that are JSON records.
func (in *clusterInstance) records() []map[string]any {
	data, _ := os.ReadFile(in.log)
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

// signal sends sig to the instance.
func (in *clusterInstance) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := in.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: signal %v: %v", in.name, sig, err)
	}
}

// stop ends the instance as an operator does (SIGTERM) and returns how it
// exited; after 30 seconds it is killed.
func (in *clusterInstance) stop() error {
	select {
	case <-in.exited:
		return in.err
	default:
	}
	in.cmd.Process.Signal(syscall.SIGCONT) // a paused one must run to stop
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
		return in.err
	case <-time.After(30 * time.Second):
		in.cmd.Process.Kill()
		<-in.exited
		return fmt.Errorf("did not stop within 30s of SIGTERM: killed")
	}
}

// stopAll stops every instance; when the test failed, it logs the end of
// each one's log and what the origin saw of the sources not stored.
func (c *clusterTest) stopAll() {
	for _, in := range c.all() {
		err := in.stop()
		if c.t.Failed() {
			c.t.Logf("%s (pid %d) exited: %v; its log ends:\n%s", in.name, in.pid(), err, tail(in.log, 40))
		}
	}
	if !c.t.Failed() {
		return
	}
	c.mu.Lock()
	unstored := c.unstored
	c.mu.Unlock()
	for _, id := range unstored {
		var seen []string
		for _, f := range c.origin.requests(func(f originFetch) bool { return f.Source == id }) {
			seen = append(seen, fmt.Sprintf("pid %d v%d %s status %d held %v", f.PID, f.Version, span(f), f.Status, f.Held))
		}
		c.t.Logf("the origin's record of %s, not stored: %s", id, strings.Join(seen, "; "))
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// newsdesk runs a command of the binary on the cluster's feeds.yaml and
// returns its stdout; it fails the test unless the command exits 0.
func (c *clusterTest) newsdesk(args ...string) []byte {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(args, "-config", c.config)...)
	cmd.Dir = c.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("newsdesk %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// clusterStatus is `newsdesk status -json` on a shared store: the
// sources' rows and the instances sharing it. (A status that lists no
// instances prints the rows alone, as on bbolt.)
type clusterStatus struct {
	Sources   []status.Row     `json:"sources"`
	Instances []store.Instance `json:"instances"`
	Warnings  []string         `json:"warnings"`
}

// status is `newsdesk status -json`.
func (c *clusterTest) status() clusterStatus {
	c.t.Helper()
	out := c.newsdesk("status", "-json")
	var st clusterStatus
	err := json.Unmarshal(out, &st.Sources)
	if err != nil {
		err = json.Unmarshal(out, &st)
	}
	if err != nil {
		c.t.Fatalf("newsdesk status -json: %v\n%.500s", err, out)
	}
	return st
}

// stored says which sources status does not show fetched with want(i)
// items ("" when all are).
func (c *clusterTest) stored(want func(i int) int) string {
	rows := map[string]status.Row{}
	for _, r := range c.status().Sources {
		rows[r.ID] = r
	}
	var wrong, unstored []string
	for i := range c.n {
		r, ok := rows[sourceID(i)]
		if !ok || r.Result != "ok" || r.Items != want(i) {
			unstored = append(unstored, sourceID(i))
			wrong = append(wrong, fmt.Sprintf("%s (%s, %d items, want %d)", sourceID(i), r.Result, r.Items, want(i)))
		}
	}
	c.mu.Lock()
	c.unstored = unstored
	c.mu.Unlock()
	if len(wrong) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d sources not stored as expected, e.g. %s", len(wrong), c.n, strings.Join(wrong[:min(5, len(wrong))], ", "))
}

// queryInt runs a query that returns one integer, in the cluster's schema
// and as its application (application_name).
func (c *clusterTest) queryInt(sql string, args ...any) int64 {
	c.t.Helper()
	return pgtest.Int(c.t, c.dsn, sql, args...)
}

// httpGet gets path from an instance, with If-None-Match when etag is
// given, and returns the status, the ETag and the body.
func httpGet(t testing.TB, base, path, etag string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", base, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s%s: %v", base, path, err)
	}
	return resp.StatusCode, resp.Header.Get("ETag"), body
}

// eventually polls cond until it returns "" or within has passed, when the
// test fails with what cond said last. It polls real conditions (a log
// line, the origin's record, the database), never a guess at a duration.
func eventually(t testing.TB, within time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	wait := 5 * time.Millisecond
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so within %s: %s", what, within, why)
		}
		time.Sleep(wait) // polling a real condition
		wait = min(2*wait, 250*time.Millisecond)
	}
}
