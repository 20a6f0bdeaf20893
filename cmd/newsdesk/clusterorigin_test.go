//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clusterOrigin stands in for the publishers of the multi-instance tests:
// three hosts (listeners on 127.0.0.1, 127.0.0.2 and 127.0.0.3, so that
// fetch.per_host counts per host) serving n RSS feeds, feed i on host i%3
// (the slow one, 127.0.0.1, when i%3 is 0).
// Each feed has a version the test moves on (bump); version v carries five
// items of its own. The origin records every request: which source, which
// instance (the process holding the client's end of the connection), when
// it came and when it was answered. From that record the tests check the
// cluster's guarantees as a publisher sees them: no source fetched by two
// instances at overlapping times, never more than per_host requests in
// flight to one host.
type clusterOrigin struct {
	hosts []*httptest.Server
	// latency is how long each host's answers take, as a real publisher's
	// do. The first host is slow: its fetches hold their host slots long
	// enough that the instances want more of them than per_host allows.
	latency [3]time.Duration

	mu      sync.Mutex
	pids    []int // the instances' processes, to tell who asks
	version []int // feed i's current version, from 1
	fetches []*originFetch
	// holdIf, when set, decides whether a request is held until the test
	// releases it (or its client goes away).
	holdIf func(f *originFetch) bool
}

// originFetch is one request for a feed, as the origin saw it.
type originFetch struct {
	Source  string
	Feed    int
	Host    string
	PID     int // 0: not one of the instances (a `newsdesk run`)
	Version int
	Start   time.Time
	End     time.Time // zero while in flight: answered, or the client gone
	Status  int       // 200 or 304; 0 when the client went away first
	Held    bool
	release chan struct{}
}

// connKey is the request's connection in its context, as a *peerConn.
type connKey struct{}

// peerConn is a connection to the origin and, once found, the pid of the
// instance at its other end. Finding it reads /proc/net/tcp and the
// instances' fd tables, which on a loaded machine with many sockets (a
// benchmark's thousands of listeners) can take longer than a fetch's
// timeout; a connection's peer never changes, so it is looked up once per
// connection, not once per request.
type peerConn struct {
	net.Conn
	mu  sync.Mutex
	pid int
}

// peer is the pid of the instance at the other end of c, among pids, or 0
// while it is not known (a pid the origin was not told about yet).
func (c *peerConn) peer(pids []int) int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pid == 0 {
		c.pid = peerPID(c.Conn, pids)
	}
	return c.pid
}

// newClusterOrigin starts the three hosts serving n feeds.
func newClusterOrigin(t testing.TB, n int) *clusterOrigin {
	o := &clusterOrigin{latency: [3]time.Duration{250 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}, version: make([]int, n)}
	for i := range o.version {
		o.version[i] = 1
	}
	for h := 1; h <= 3; h++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", h))
		if err != nil {
			t.Fatalf("origin host %d: %v", h, err)
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(o.serveFeed))
		srv.Listener.Close()
		srv.Listener = ln
		srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &peerConn{Conn: c})
		}
		srv.Start()
		o.hosts = append(o.hosts, srv)
	}
	t.Cleanup(func() {
		o.releaseAll()
		for _, h := range o.hosts {
			h.CloseClientConnections()
			h.Close()
		}
	})
	return o
}

// sourceID is feed i's source id in feeds.yaml.
func sourceID(i int) string { return fmt.Sprintf("s%04d", i) }

// feedURL is where feed i is served.
func (o *clusterOrigin) feedURL(i int) string { return o.hosts[i%3].URL + "/feed/" + sourceID(i) }

// storyLink is the link of item k of feed i's version v.
func (o *clusterOrigin) storyLink(i, v, k int) string {
	return fmt.Sprintf("%s/story/%s/%d/%d", o.hosts[i%3].URL, sourceID(i), v, k)
}

// itemsPerVersion is how many items each version of a feed carries.
const itemsPerVersion = 5

// feedTime is when item k of feed i's version v was published: later
// versions are newer, and no two items share a time.
func feedTime(i, v, k int) time.Time {
	return time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(v)*24*time.Hour + time.Duration(i*itemsPerVersion+k)*time.Second)
}

// feed is feed i's RSS document at version v, and its ETag.
func (o *clusterOrigin) feed(i, v int) (body []byte, etag string) {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Wire %s</title><link>%s/</link><description>Feed %d of the cluster test</description>
`, sourceID(i), o.hosts[i%3].URL, i)
	for k := itemsPerVersion - 1; k >= 0; k-- {
		fmt.Fprintf(&b, "<item><title>Story %d of %s, version %d</title><link>%s</link><guid isPermaLink=\"false\">%s-v%d-%d</guid><pubDate>%s</pubDate><description>What happened in story %d.</description></item>\n",
			k, sourceID(i), v, o.storyLink(i, v, k), sourceID(i), v, k, feedTime(i, v, k).Format(time.RFC1123Z), k)
	}
	b.WriteString("</channel></rss>\n")
	return []byte(b.String()), fmt.Sprintf(`"%s-v%d"`, sourceID(i), v)
}

func (o *clusterOrigin) serveFeed(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/feed/")
	i, err := strconv.Atoi(strings.TrimPrefix(id, "s"))
	if !ok || err != nil || i < 0 || i >= len(o.version) || id != sourceID(i) {
		http.NotFound(w, r)
		return
	}
	o.mu.Lock()
	pids := slices.Clone(o.pids)
	o.mu.Unlock()
	conn, _ := r.Context().Value(connKey{}).(*peerConn)
	pid := conn.peer(pids)
	o.mu.Lock()
	f := &originFetch{Source: id, Feed: i, Host: r.Host, PID: pid, Version: o.version[i], Start: time.Now()}
	o.fetches = append(o.fetches, f)
	if o.holdIf != nil && o.holdIf(f) {
		f.Held, f.release = true, make(chan struct{})
	}
	held := f.release
	o.mu.Unlock()
	body, etag := o.feed(i, f.Version)
	// A publisher's answer takes a moment: the simulated server's latency,
	// not a wait for anything. A held request waits for the test instead.
	var answer <-chan time.Time
	if held == nil {
		timer := time.NewTimer(o.latency[i%3])
		defer timer.Stop()
		answer = timer.C
	}
	select {
	case <-answer:
	case <-held:
	case <-r.Context().Done():
	}
	code := http.StatusOK
	if r.Header.Get("If-None-Match") == etag {
		code = http.StatusNotModified
	}
	// The fetch ends, as far as the overlap checks go, before the answer
	// is written: once written, the client may commit and another
	// instance may start the next fetch at once.
	o.mu.Lock()
	f.End = time.Now()
	if r.Context().Err() == nil {
		f.Status = code
	}
	o.mu.Unlock()
	if r.Context().Err() != nil {
		return
	}
	w.Header().Set("ETag", etag)
	if code == http.StatusNotModified {
		w.WriteHeader(code)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	w.Write(body)
}

// addPID tells the origin that process pid is one of the instances.
func (o *clusterOrigin) addPID(pid int) {
	o.mu.Lock()
	o.pids = append(o.pids, pid)
	o.mu.Unlock()
}

// hold makes the origin hold the requests that fn picks (nil: none).
func (o *clusterOrigin) hold(fn func(f *originFetch) bool) {
	o.mu.Lock()
	o.holdIf = fn
	o.mu.Unlock()
}

// bump moves feed i on to its next version and returns it.
func (o *clusterOrigin) bump(i int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.version[i]++
	return o.version[i]
}

// release lets the held request f (one that requests returned) answer.
func (o *clusterOrigin) release(f originFetch) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, g := range o.fetches {
		if g.Start.Equal(f.Start) && g.Source == f.Source && g.release != nil {
			close(g.release)
			g.release = nil
		}
	}
}

func (o *clusterOrigin) releaseAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range o.fetches {
		if f.release != nil {
			close(f.release)
			f.release = nil
		}
	}
}

// requests returns copies of the requests so far that pick chooses.
func (o *clusterOrigin) requests(pick func(f originFetch) bool) []originFetch {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []originFetch
	for _, f := range o.fetches {
		if pick(*f) {
			out = append(out, *f)
		}
	}
	return out
}

// overlaps describes every two fetches of one source whose times overlap,
// leaving out those exempt picks (an instance's request abandoned while it
// was paused). A fetch still in flight lasts until now.
func (o *clusterOrigin) overlaps(exempt func(f originFetch) bool) []string {
	bySource := map[string][]originFetch{}
	for _, f := range o.requests(func(f originFetch) bool { return exempt == nil || !exempt(f) }) {
		bySource[f.Source] = append(bySource[f.Source], f)
	}
	var out []string
	for src, fs := range bySource {
		for a := range fs {
			for b := a + 1; b < len(fs); b++ {
				if fs[b].Start.Before(endOf(fs[a])) && fs[a].Start.Before(endOf(fs[b])) {
					out = append(out, fmt.Sprintf("%s: pid %d %s and pid %d %s", src, fs[a].PID, span(fs[a]), fs[b].PID, span(fs[b])))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// maxInFlight returns, for each host, the most requests it had in flight
// at once, leaving out those exempt picks.
func (o *clusterOrigin) maxInFlight(exempt func(f originFetch) bool) map[string]int {
	type event struct {
		at    time.Time
		delta int
	}
	byHost := map[string][]event{}
	for _, f := range o.requests(func(f originFetch) bool { return exempt == nil || !exempt(f) }) {
		byHost[f.Host] = append(byHost[f.Host], event{f.Start, 1}, event{endOf(f), -1})
	}
	out := map[string]int{}
	for host, evs := range byHost {
		// Ends before starts at the same instant: touching is not overlapping.
		slices.SortFunc(evs, func(a, b event) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return a.delta - b.delta
		})
		n := 0
		for _, e := range evs {
			n += e.delta
			out[host] = max(out[host], n)
		}
	}
	return out
}

// crowd describes the requests to host (but exempt ones) in flight at the
// first instant more than limit were: what a failed per-host check shows.
func (o *clusterOrigin) crowd(exempt func(f originFetch) bool, host string, limit int) []string {
	fs := o.requests(func(f originFetch) bool { return f.Host == host && (exempt == nil || !exempt(f)) })
	for _, f := range fs {
		var at []string
		for _, g := range fs {
			if !g.Start.After(f.Start) && f.Start.Before(endOf(g)) {
				at = append(at, fmt.Sprintf("%s pid %d held %v status %d %s", g.Source, g.PID, g.Held, g.Status, span(g)))
			}
		}
		if len(at) > limit {
			return at
		}
	}
	return nil
}

func endOf(f originFetch) time.Time {
	if f.End.IsZero() {
		return time.Now()
	}
	return f.End
}

func span(f originFetch) string {
	end := "in flight"
	if !f.End.IsZero() {
		end = f.End.Format("15:04:05.000000")
	}
	return "[" + f.Start.Format("15:04:05.000000") + ", " + end + "]"
}

// peerPID returns which of pids holds the client's end of c, an accepted
// loopback connection: the socket whose local and remote ports are c's
// remote and local ones in /proc/net/tcp, found among the processes' open
// files by its inode. 0 when none of them does.
func peerPID(c net.Conn, pids []int) int {
	if c == nil {
		return 0
	}
	server, okS := c.LocalAddr().(*net.TCPAddr)
	client, okC := c.RemoteAddr().(*net.TCPAddr)
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil || !okS || !okC {
		return 0
	}
	inode := ""
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", client.Port)) && strings.HasSuffix(f[2], fmt.Sprintf(":%04X", server.Port)) {
			inode = f[9]
			break
		}
	}
	if inode == "" {
		return 0
	}
	want := "socket:[" + inode + "]"
	for _, pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			if target, _ := os.Readlink(dir + "/" + fd.Name()); target == want {
				return pid
			}
		}
	}
	return 0
}
