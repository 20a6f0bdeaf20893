package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serveProc is a running `newsdesk serve`, its memory followed from the
// start.
type serveProc struct {
	cmd     *exec.Cmd
	url     string // http://127.0.0.1:PORT, from its "serving" line
	anon    *anonSampler
	log     *logLines
	exited  chan struct{}
	waitErr error
	client  *http.Client
}

// startServe starts `newsdesk serve` on config, listening on a free
// loopback port, and returns once it logs that it serves (its listeners
// are up and its sections rendered).
func startServe(ctx context.Context, bin, config string) (*serveProc, error) {
	p := &serveProc{log: &logLines{serving: make(chan string, 1), fetched: make(chan struct{}, 1)}, exited: make(chan struct{}), client: &http.Client{Timeout: 30 * time.Second}}
	p.cmd = exec.Command(bin, "serve", "-config", config, "-listen", "127.0.0.1:0", "-log-format", "json")
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("newsdesk serve: %w", err)
	}
	p.anon = sampleAnon(p.cmd.Process.Pid)
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }()
	select {
	case p.url = <-p.log.serving:
		return p, nil
	case <-p.exited:
		p.anon.end()
		return nil, fmt.Errorf("newsdesk serve exited before serving (%v):\n%s", p.waitErr, p.log.tail(20))
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	case <-time.After(2 * time.Minute):
		p.stop()
		return nil, fmt.Errorf("newsdesk serve did not log \"serving\" within 2 minutes:\n%s", p.log.tail(20))
	}
}

// stop ends serve with SIGTERM (SIGKILL after 30 s) and returns what it
// used over its life.
func (p *serveProc) stop() (measure, error) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	m := childMeasure(p.cmd.ProcessState, p.anon)
	if !p.cmd.ProcessState.Success() {
		return m, fmt.Errorf("newsdesk serve ended with %v:\n%s", p.waitErr, p.log.tail(20))
	}
	return m, nil
}

// waitFetches waits until serve has committed n fetches, and returns how
// many failed.
func (p *serveProc) waitFetches(ctx context.Context, n int, within time.Duration) (failed int, err error) {
	deadline := time.After(within)
	for {
		done, failed := p.log.counts()
		if done >= n {
			return failed, nil
		}
		select {
		case <-p.log.fetched:
		case <-p.exited:
			return failed, fmt.Errorf("newsdesk serve exited (%v) after %d of %d fetches:\n%s", p.waitErr, done, n, p.log.tail(20))
		case <-ctx.Done():
			return failed, ctx.Err()
		case <-deadline:
			return failed, fmt.Errorf("newsdesk serve committed %d of %d fetches in %s:\n%s", done, n, within, p.log.tail(20))
		}
	}
}

// metrics scrapes serve's /metrics: each metric's value summed over its
// series (so per-source counters come out as totals; the benchmark's
// config has one section).
func (p *serveProc) metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", p.url+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("serve's /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("serve's /metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics sums the Prometheus text format's samples by metric name.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("serve's /metrics: line %q: %w", line, err)
		}
		out[name] += v
	}
	return out, sc.Err()
}

// logLines takes serve's JSON log: it keeps the last lines, for errors,
// and hands on the URL of its "serving" line.
type logLines struct {
	mu      sync.Mutex
	partial []byte
	last    []string
	serving chan string
	fetches int           // "fetched" and "fetch failed" lines: committed fetches
	failed  int           // "fetch failed" lines
	fetched chan struct{} // a signal after each committed fetch
}

func (l *logLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		l.line(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
}

func (l *logLines) line(s string) {
	l.last = append(l.last, s)
	if len(l.last) > 40 {
		l.last = l.last[len(l.last)-20:]
	}
	var rec struct{ Msg, URL string }
	if json.Unmarshal([]byte(s), &rec) != nil {
		return
	}
	switch rec.Msg {
	case "serving":
		select {
		case l.serving <- strings.TrimSuffix(rec.URL, "/"):
		default:
		}
		return
	case "fetch failed":
		l.failed++
	case "fetched":
	default:
		return
	}
	l.fetches++
	select {
	case l.fetched <- struct{}{}:
	default:
	}
}

// counts is how many fetches serve has committed, and how many of them
// failed.
func (l *logLines) counts() (fetches, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fetches, l.failed
}

// tail is the last n lines of the log.
func (l *logLines) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last[max(0, len(l.last)-n):], "\n")
}
