package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/store"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the real newsdesk binary inside
// scripts: testscript runs it as a separate process named newsdesk.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"newsdesk": main})
}

// TestScripts runs the command-line scenarios in testdata/script. Each
// script gets a fake origin server (an httptest server serving the files
// under $WORK/origin, with ETag/Last-Modified and 304s, or the answer
// scripted in PATH.status, logging every request to $WORK/origin.log) and a free port. The placeholders ${ORIGIN} and
// ${PORT} in the script's files are replaced before it runs. Unless the
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
			port, err := freePort()
			if err != nil {
				return err
			}
			env.Setenv("ORIGIN", origin.URL)
			env.Setenv("PORT", port)
			return substitute(env.WorkDir, map[string]string{"${ORIGIN}": origin.URL, "${PORT}": port})
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"httpget":  cmdHTTPGet,
			"waithttp": cmdWaitHTTP,
			"metrics":  cmdMetrics,
			"signal":   cmdSignal,
			"waitlock": cmdWaitLock,
			"fill":     cmdFill,
		},
	})
}

// newOrigin starts a stand-in for a publisher's web server.
func newOrigin(root, logPath string) *httptest.Server {
	var mu sync.Mutex
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, "%s %s If-None-Match=%s If-Modified-Since=%s User-Agent=%s\n", r.Method, r.URL.Path,
				r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"), r.Header.Get("User-Agent"))
			f.Close()
		}
		file := filepath.Join(root, filepath.FromSlash(r.URL.Path))
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
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(body)
	}))
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
// one "Name: value" per line, sorted, to stderr, and sets $ETAG to the
// response's ETag for a conditional request after it.
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
	pid, _ := store.LockHolder(ts.MkAbs(args[1]))
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
		if pid, _ := store.LockHolder(ts.MkAbs(args[0])); (pid != 0) != neg {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("the lock on %s did not change within 20s (want held: %v)", args[0], !neg)
		}
		time.Sleep(wait) // polling a real condition: the lock being taken or released
	}
}
