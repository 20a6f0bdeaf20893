package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// TestMain lets the test binary act as the real newsdesk binary inside
// scripts: testscript runs it as a separate process named newsdesk.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"newsdesk": main})
}

// TestScripts runs the command-line scenarios in testdata/script. Each
// script gets a fake origin server (an httptest server serving the files
// under $WORK/origin, with ETag/Last-Modified and 304s, or the answer
// scripted in PATH.status, logging every request to $WORK/origin.log; a
// PATH.auth or PATH.key file makes PATH need Basic auth or a header, see
// authorized) and a free port. The placeholders ${ORIGIN} and
// ${PORT} in the script's files are replaced before it runs, and
// ${LOCALORIGIN} by the origin's URL with the host localhost,
// ${ORIGINHOST} by its host:port, and ${OTHER} by the URL of the same
// files served on another host, 127.0.0.2 (logging to $WORK/other.log;
// empty unless [otherhost]); files ending
// in .html are served as text/html, and $ARTICLES is the folder of the
// fetcher's article page fixtures. Unless the
// script brings its own, $WORK/origin/rss/news is testdata/moscowtimes.xml.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Every origin starts out serving a feed shaped like The Moscow
			// Times' news RSS at /rss/news; scripts may replace it.
			fixture, err := os.ReadFile("testdata/moscowtimes.xml")
			if err != nil {
				return err
			}
			news := filepath.Join(env.WorkDir, "origin", "rss", "news")
			if _, err := os.Stat(news); os.IsNotExist(err) {
				if err := os.MkdirAll(filepath.Dir(news), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(news, fixture, 0o644); err != nil {
					return err
				}
			}
			origin := newOrigin(filepath.Join(env.WorkDir, "origin"), filepath.Join(env.WorkDir, "origin.log"))
			env.Defer(origin.Close)
			// The other host: the same files on 127.0.0.2 (another host,
			// for the credentials' redirect rule), logging to other.log.
			other := ""
			if ln, err := otherHostListener(); err == nil {
				srv := httptest.NewUnstartedServer(originHandler(filepath.Join(env.WorkDir, "origin"), filepath.Join(env.WorkDir, "other.log")))
				srv.Listener.Close()
				srv.Listener = ln
				srv.Start()
				env.Defer(srv.Close)
				other = srv.URL
			}
			env.Defer(func() { // a script that failed leaves no request held
				if h, ok := holds.LoadAndDelete(origin.URL); ok {
					h.(*originHold).releaseAll()
				}
			})
			port, err := freePort()
			if err != nil {
				return err
			}
			articles, err := filepath.Abs(filepath.Join("..", "..", "fetcher", "testdata", "articles"))
			if err != nil {
				return err
			}
			// The same origin named localhost: a host other than the
			// feed's, on a loopback address, for the private-address guard.
			local := strings.Replace(origin.URL, "127.0.0.1", "localhost", 1)
			env.Setenv("ORIGIN", origin.URL)
			env.Setenv("OTHER", other)
			env.Setenv("PORT", port)
			env.Setenv("ARTICLES", articles)
			return substitute(env.WorkDir, map[string]string{"${ORIGIN}": origin.URL, "${ORIGINHOST}": strings.TrimPrefix(origin.URL, "http://"), "${OTHER}": other, "${PORT}": port, "${LOCALORIGIN}": local})
		},
		// [pty]: pseudo-terminals can be opened here (for ttyexec).
		// [fsizelimit]: diskfull can simulate a full disk here.
		// [postgres]: a PostgreSQL cluster to test against is given
		// (NEWSDESK_TEST_DATABASE_URL); CI always gives one.
		// [otherhost]: ${OTHER} is served on 127.0.0.2 (Linux routes all
		// of 127.0.0.0/8 to loopback; some systems only 127.0.0.1).
		Condition: func(cond string) (bool, error) {
			if cond == "otherhost" {
				ln, err := otherHostListener()
				if err == nil {
					ln.Close()
				}
				return err == nil, nil
			}
			if cond == "fsizelimit" {
				return canLimitFileSize(), nil
			}
			if cond == "postgres" {
				return havePostgres()
			}
			if cond != "pty" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			master, slave, err := openPTY(80)
			if err != nil {
				return false, nil
			}
			master.Close()
			slave.Close()
			return true, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"httpget":  cmdHTTPGet,
			"waithttp": cmdWaitHTTP,
			"metrics":  cmdMetrics,
			"signal":   cmdSignal,
			"waitlock": cmdWaitLock,
			"mkdb":     cmdMkDB,
			"damage":   cmdDamage,
			"ttyexec":  cmdTTYExec,
			"waitheld": cmdWaitHeld,
			"fill":     cmdFill,
			"killmid":  cmdKillMid,
			"glob":     cmdGlob,
			"mkfeed":   cmdMkFeed,
			"diskfull": cmdDiskFull,
			"eachcmd":  cmdEachCmd,
			"pgstore":  cmdPGStore,
			"pgjoin":   cmdPGJoin,
			"nosecret": cmdNoSecret,
		},
	})
}

// newOrigin starts a stand-in for a publisher's web server.
func newOrigin(root, logPath string) *httptest.Server {
	return httptest.NewServer(originHandler(root, logPath))
}

// otherHostListener listens on a free port of 127.0.0.2, the scripts'
// other host.
func otherHostListener() (net.Listener, error) { return net.Listen("tcp", "127.0.0.2:0") }

// originHandler serves the files under root as a publisher would, logging
// each request to logPath: its method, path, validators and User-Agent,
// then the scheme of its Authorization ("Basic", never the credentials)
// and whether it had an X-Api-Key header ("X-Api-Key=set").
func originHandler(root, logPath string) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			key := map[bool]string{true: "set"}[r.Header.Get("X-Api-Key") != ""]
			fmt.Fprintf(f, "%s %s If-None-Match=%s If-Modified-Since=%s User-Agent=%s Authorization=%s X-Api-Key=%s\n", r.Method, r.URL.Path,
				r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"), r.Header.Get("User-Agent"), scheme, key)
			f.Close()
		}
		file := filepath.Join(root, filepath.FromSlash(r.URL.Path))
		if !authorized(w, r, file) {
			return
		}
		// PATH.hold: answer once GET /release/PATH has come (waitheld
		// waits for a request to be held there).
		if p, ok := strings.CutPrefix(r.URL.Path, "/release"); ok {
			originHolds(r.Host).of(p).release()
			return
		}
		if _, err := os.Stat(file + ".hold"); err == nil {
			h := originHolds(r.Host).of(r.URL.Path)
			mu.Unlock()
			h.hold(r.Context())
			mu.Lock()
		}
		// PATH.block: never answer; the client's timeout ends the request.
		if _, err := os.Stat(file + ".block"); err == nil {
			mu.Unlock()
			<-r.Context().Done()
			mu.Lock()
			return
		}
		// PATH.status scripts an answer: a status code on the first line,
		// then "Name: value" header lines.
		if script, err := os.ReadFile(file + ".status"); err == nil {
			lines := strings.Split(strings.TrimSpace(string(script)), "\n")
			for _, l := range lines[1:] {
				name, value, _ := strings.Cut(l, ":")
				w.Header().Set(strings.TrimSpace(name), strings.TrimSpace(value))
			}
			code, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
			w.WriteHeader(code)
			return
		}
		body, err := os.ReadFile(file)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`W/"%x"`, sha256.Sum256(body))
		etag = etag[:20] + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Thu, 26 Nov 2026 09:00:00 GMT")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		ctype := "application/rss+xml; charset=utf-8"
		if strings.HasSuffix(r.URL.Path, ".html") {
			ctype = "text/html" // no charset: an article page says its own in <meta>
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(body)
	})
}

// authorized reports whether r may have file, answering 401 or 403 when
// not: PATH.auth holds "user:password" for HTTP Basic auth, PATH.key a
// "Name: value" header the request must carry.
func authorized(w http.ResponseWriter, r *http.Request, file string) bool {
	if want, err := os.ReadFile(file + ".auth"); err == nil {
		user, pass, _ := strings.Cut(strings.TrimSpace(string(want)), ":")
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="origin"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return false
		}
	}
	if want, err := os.ReadFile(file + ".key"); err == nil {
		name, value, _ := strings.Cut(strings.TrimSpace(string(want)), ":")
		if r.Header.Get(strings.TrimSpace(name)) != strings.TrimSpace(value) {
			http.Error(w, "api key required", http.StatusForbidden)
			return false
		}
	}
	return true
}

// holds are the origins' held paths, by the origin's host:port.
var holds sync.Map // string -> *originHold

type originHold struct {
	mu    sync.Mutex
	paths map[string]*heldPath
}

// heldPath is one path of an origin that answers once released.
type heldPath struct {
	held, released   chan struct{}
	onceHeld, onceRe sync.Once
}

func originHolds(host string) *originHold {
	h, _ := holds.LoadOrStore("http://"+host, &originHold{paths: map[string]*heldPath{}})
	return h.(*originHold)
}

func (o *originHold) of(path string) *heldPath {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.paths[path]
	if p == nil {
		p = &heldPath{held: make(chan struct{}), released: make(chan struct{})}
		o.paths[path] = p
	}
	return p
}

func (o *originHold) releaseAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range o.paths {
		p.release()
	}
}

func (p *heldPath) hold(ctx context.Context) {
	p.onceHeld.Do(func() { close(p.held) })
	select {
	case <-p.released:
	case <-ctx.Done():
	}
}

func (p *heldPath) release() { p.onceRe.Do(func() { close(p.released) }) }

// cmdWaitHeld: waitheld PATH
// Waits until the origin holds a request for PATH (a file PATH.hold under
// origin/), until GET ${ORIGIN}/release/PATH lets it answer.
func cmdWaitHeld(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitheld PATH")
	}
	h, ok := holds.Load(ts.Getenv("ORIGIN"))
	if !ok {
		h, _ = holds.LoadOrStore(ts.Getenv("ORIGIN"), &originHold{paths: map[string]*heldPath{}})
	}
	select {
	case <-h.(*originHold).of(args[0]).held:
	case <-time.After(20 * time.Second):
		ts.Fatalf("no request for %s came to the origin within 20s", args[0])
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// substitute replaces placeholders in every file under dir.
func substitute(dir string, repl map[string]string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out := data
		for k, v := range repl {
			out = bytes.ReplaceAll(out, []byte(k), []byte(v))
		}
		if bytes.Equal(out, data) {
			return nil
		}
		return os.WriteFile(path, out, 0o644)
	})
}

// cmdHTTPGet: httpget [-X METHOD] [-H 'Name: value']... URL
// Writes the body to stdout and "HTTP STATUS" plus the response headers,
// one "Name: value" per line, sorted, to stderr, and sets $ETAG and
// $LASTMOD to the response's ETag and Last-Modified for a conditional
// request after it.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	method := "GET"
	req, err := http.NewRequest(method, "", nil)
	ts.Check(err)
	for len(args) > 1 {
		switch args[0] {
		case "-H":
			name, value, _ := strings.Cut(args[1], ":")
			req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
		case "-X":
			req.Method = args[1]
		default:
			ts.Fatalf("usage: httpget [-X METHOD] [-H 'Name: value']... URL")
		}
		args = args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: httpget [-X METHOD] [-H 'Name: value']... URL")
	}
	u, err := req.URL.Parse(args[0])
	ts.Check(err)
	req.URL, req.Host = u, u.Host
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	ts.Stdout().Write(body)
	ts.Setenv("ETAG", resp.Header.Get("ETag"))
	ts.Setenv("LASTMOD", resp.Header.Get("Last-Modified"))
	fmt.Fprintf(ts.Stderr(), "HTTP %d\n", resp.StatusCode)
	var names []string
	for k := range resp.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(ts.Stderr(), "%s: %s\n", k, strings.Join(resp.Header[k], ", "))
	}
	if failed := resp.StatusCode >= 400; failed != neg {
		ts.Fatalf("GET %s: HTTP %d", args[0], resp.StatusCode)
	}
}

// cmdWaitHTTP: waithttp URL [REGEXP]
// Waits until URL answers 200 (with a body matching REGEXP, if given), for
// a server started in the background and the work it does after starting.
func cmdWaitHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waithttp URL [REGEXP]")
	}
	want := regexp.MustCompile("")
	if len(args) == 2 {
		want = regexp.MustCompile(args[1])
	}
	deadline := time.Now().Add(20 * time.Second)
	wait := 5 * time.Millisecond
	for {
		resp, err := http.Get(args[0])
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && want.Match(body) {
				return
			}
			err = fmt.Errorf("HTTP %d, body %.200q", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not answer 200 matching %q within 20s: %v", args[0], want, err)
		}
		time.Sleep(wait) // polling a real condition: the server coming up
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// cmdMetrics: metrics URL SERIES...
// Scrapes URL, parses it with the Prometheus text parser, and checks that
// each SERIES is there: a metric name, optionally with label=value pairs
// (name{source=moscow-times,result=ok}), optionally with =VALUE after it.
func cmdMetrics(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: metrics URL SERIES...")
	}
	resp, err := http.Get(args[0])
	ts.Check(err)
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		ts.Fatalf("%s is not valid Prometheus text: %v", args[0], err)
	}
	for _, want := range args[1:] {
		name, rest, _ := strings.Cut(want, "{")
		labels, value, _ := strings.Cut(rest, "}")
		value = strings.TrimPrefix(value, "=")
		if i := strings.Index(name, "="); i >= 0 && rest == "" {
			name, value = name[:i], name[i+1:]
		}
		fam, ok := fams[name]
		found := false
		for _, m := range fam.GetMetric() {
			match := true
			for _, kv := range strings.Split(labels, ",") {
				if kv == "" {
					continue
				}
				k, v, _ := strings.Cut(kv, "=")
				has := false
				for _, l := range m.GetLabel() {
					has = has || l.GetName() == k && l.GetValue() == v
				}
				match = match && has
			}
			if !match {
				continue
			}
			if value != "" {
				var got float64
				switch {
				case m.Counter != nil:
					got = m.Counter.GetValue()
				case m.Gauge != nil:
					got = m.Gauge.GetValue()
				}
				if strconv.FormatFloat(got, 'f', -1, 64) != value {
					continue
				}
			}
			found = true
		}
		if found == neg || !ok && !neg {
			ts.Fatalf("metrics: series %s found=%v, want %v", want, found, !neg)
		}
	}
}

// cmdSignal: signal SIGNAL DBFILE
// Sends SIGNAL (HUP, TERM, INT, KILL) to the process holding the database
// file: testscript's kill knows only INT and KILL.
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: signal SIGNAL DBFILE")
	}
	sig, ok := map[string]syscall.Signal{"HUP": syscall.SIGHUP, "TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL}[args[0]]
	if !ok {
		ts.Fatalf("unknown signal %s", args[0])
	}
	pid, _ := bolt.LockHolder(ts.MkAbs(args[1]))
	if pid == 0 {
		ts.Fatalf("no process holds %s", args[1])
	}
	ts.Check(syscall.Kill(pid, sig))
}

// cmdWaitLock: [!] waitlock DBFILE
// Waits until a process holds the database file (for a command started in
// the background), or with !, until none does (for one that was killed).
func cmdWaitLock(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] waitlock DBFILE")
	}
	deadline := time.Now().Add(20 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		if pid, _ := bolt.LockHolder(ts.MkAbs(args[0])); (pid != 0) != neg {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("the lock on %s did not change within 20s (want held: %v)", args[0], !neg)
		}
		time.Sleep(wait) // polling a real condition: the lock being taken or released
	}
}

// cmdMkDB: mkdb DBFILE N
// Makes a real database of a few MB through the store: N items of
// source moscow-times, all kept.
func cmdMkDB(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mkdb DBFILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	db, err := bolt.Open(ts.MkAbs(args[0]), bolt.Options{})
	ts.Check(err)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, src := range []string{"moscow-times"} {
		items := make([]newsdesk.Item, n)
		for i := range items {
			items[i] = newsdesk.Item{ID: fmt.Sprintf("%s-%05d", src, i), Title: fmt.Sprintf("Story %d of %s", i, src),
				Link: fmt.Sprintf("https://%s.example/%d", src, i), Published: t0.Add(time.Duration(i) * time.Minute),
				Summary: strings.Repeat("Words of a summary. ", 25)}
		}
		_, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: t0.Add(time.Duration(n) * time.Minute), Result: newsdesk.ResultOK}, items, newsdesk.Retention{})
		ts.Check(err)
	}
	ts.Check(db.Close())
}

// cmdDamage: damage DBFILE truncate|empty|garble [BYTES]
// Damages a database file as a failing disk or a careless hand would:
// cuts it to half its size, to 0 bytes, or overwrites BYTES (default 4096)
// a third of the way into it with (seeded) random bytes.
func cmdDamage(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 && (len(args) != 3 || args[1] != "garble") {
		ts.Fatalf("usage: damage DBFILE truncate|empty|garble [BYTES]")
	}
	path := ts.MkAbs(args[0])
	fi, err := os.Stat(path)
	ts.Check(err)
	switch args[1] {
	case "truncate":
		ts.Check(os.Truncate(path, fi.Size()/2))
	case "empty":
		ts.Check(os.Truncate(path, 0))
	case "garble":
		n := 4096
		if len(args) == 3 {
			n, err = strconv.Atoi(args[2])
			ts.Check(err)
		}
		junk := make([]byte, n)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range junk {
			junk[i] = byte(r.Uint32())
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		ts.Check(err)
		_, err = f.WriteAt(junk, fi.Size()/3)
		ts.Check(err)
		ts.Check(f.Close())
	default:
		ts.Fatalf("damage: unknown kind %q", args[1])
	}
}

// cmdTTYExec: [!] ttyexec COLS PROGRAM [ARGS...]
// Runs PROGRAM with its stdout on a pseudo-terminal COLS columns wide, as a
// person at a terminal would, and writes what it printed there to stdout
// (its stderr goes to stderr). Scripts check the condition [pty] first.
func cmdTTYExec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: ttyexec COLS PROGRAM [ARGS...]")
	}
	cols, err := strconv.Atoi(args[0])
	ts.Check(err)
	master, slave, err := openPTY(cols)
	ts.Check(err)
	defer master.Close()
	path, err := exec.LookPath(args[1])
	ts.Check(err)
	cmd := exec.Command(path, args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = os.Environ()
	for _, k := range []string{"HOME", "TMPDIR", "WORK", "ORIGIN", "PORT"} {
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = slave, &stderr
	err = cmd.Start()
	slave.Close() // the child has it; reading ends when the child is gone
	ts.Check(err)
	var out bytes.Buffer
	io.Copy(&out, master) // ends with EIO once the child exits
	err = cmd.Wait()
	ts.Stdout().Write(bytes.ReplaceAll(out.Bytes(), []byte("\r\n"), []byte("\n")))
	ts.Stderr().Write(stderr.Bytes())
	if (err != nil) != neg {
		ts.Fatalf("ttyexec %s: %v", strings.Join(args[1:], " "), err)
	}
}

// openPTY opens a pseudo-terminal pair with the given width.
func openPTY(cols int) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: uint16(cols)}); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, err
	}
	return master, slave, nil
}
