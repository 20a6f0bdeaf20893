package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// buildNewsdesk builds cmd/newsdesk into dir and returns the binary's path.
// It needs the go command and this module's source: run the benchmark from
// inside the repository.
func buildNewsdesk(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "newsdesk")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/newsdesk/newsdesk/cmd/newsdesk")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build newsdesk (run the benchmark from inside the repository, or give -newsdesk PATH): %v\n%s", err, out)
	}
	return bin, nil
}

// writeConfig writes a feeds.yaml in dir with one source per origin URL and
// a bbolt file beside it, and returns the file's path.
func writeConfig(dir string, feeds []feed, urls []string) (string, error) {
	var b strings.Builder
	b.WriteString("storage:\n  path: newsdesk.db\n\nsections:\n  - id: all\n    title: Every source\n    tags: [bench]\n\nsources:\n")
	for i, f := range feeds {
		fmt.Fprintf(&b, "  - id: %s\n    url: %s\n    tags: [bench]\n", f.id, urls[i])
	}
	path := filepath.Join(dir, "feeds.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// runPass runs `newsdesk run -force` on config and measures the child: wall
// time, user+system CPU, and peak resident memory (ru_maxrss: it counts
// bbolt's file-backed mapping as well as heap and stacks, so it is more
// than the RssAnon the targets speak of).
func runPass(ctx context.Context, bin, config string) (measure, string, error) {
	cmd := exec.CommandContext(ctx, bin, "run", "-force", "-config", config)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return measure{}, "", fmt.Errorf("newsdesk run -force: %v\n%s%s", err, stdout.String(), lastLines(stderr.String(), 20))
	}
	ps := cmd.ProcessState
	m := measure{wall: wall, cpu: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS, m.hasRSS = ru.Maxrss*1024, true // kilobytes on Linux
	}
	return m, strings.TrimSpace(stdout.String()), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// storeCheck is what the bbolt file holds after a pass.
type storeCheck struct {
	items     int                     // items stored, all sources
	short     []string                // sources with fewer items than their feed
	results   map[newsdesk.Result]int // sources by the result of their last fetch
	fileBytes int64
}

// checkStore opens the bbolt file read-only and counts, for every feed,
// its stored items and the result of its last fetch.
func checkStore(path string, feeds []feed, perFeed int) (storeCheck, error) {
	c := storeCheck{results: map[newsdesk.Result]int{}}
	db, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		return c, err
	}
	defer db.Close()
	for _, f := range feeds {
		n, err := db.CountItems(f.id)
		if err != nil {
			return c, err
		}
		c.items += n
		if n < perFeed {
			c.short = append(c.short, fmt.Sprintf("%s (%d)", f.id, n))
		}
		st, err := db.State(f.id)
		if err != nil {
			return c, err
		}
		c.results[st.Result]++
	}
	fi, err := os.Stat(path)
	if err != nil {
		return c, err
	}
	c.fileBytes = fi.Size()
	return c, nil
}
