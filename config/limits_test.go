package config

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/cputime"
)

// aliasBomb is a "billion laughs" in YAML: each anchor is a list of ten
// aliases of the one before, so expanding the last one makes 10^levels
// strings from a file of a few hundred bytes. use is where the file uses
// the bomb.
func aliasBomb(levels int, use string) string {
	var b strings.Builder
	b.WriteString("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", "))
	}
	b.WriteString(strings.ReplaceAll(use, "BOMB", fmt.Sprintf("*l%d", levels)))
	return b.String()
}

// TestAliasBomb: anchors and aliases are never expanded: feeds.yaml has no
// use for them, so a file with a "billion laughs" (10^7 strings here, a
// few hundred megabytes if expanded) is rejected in bounded memory, by
// Parse and by import's FindSources alike.
func TestAliasBomb(t *testing.T) {
	uses := map[string]string{
		"unused":        "sources:\n  - id: a\n    url: https://a.example/\nsections:\n  - id: s\n    sources: [a]\n",
		"as tags":       "sources:\n  - id: a\n    url: https://a.example/\n    tags: BOMB\nsections:\n  - id: s\n    tags: BOMB\n",
		"as sources":    "sources: BOMB\nsections: BOMB\n",
		"as a key":      "sources:\n  - id: a\n    url: https://a.example/\n    BOMB : x\nsections:\n  - id: s\n    sources: [a]\n",
		"as rules":      "sources:\n  - id: a\n    url: https://a.example/\nsections:\n  - id: s\n    sources: [a]\n    include: BOMB\n",
		"in a sequence": "sources:\n  - BOMB\n  - id: a\n    url: https://a.example/\nsections:\n  - id: s\n    sources: [a, BOMB]\n",
	}
	const limit = 32 << 20 // bytes allocated; the parse takes well under 1 MiB
	for name, use := range uses {
		t.Run(name, func(t *testing.T) {
			data := []byte(aliasBomb(7, use))
			var err error
			alloc := allocated(func() { _, err = Parse("feeds.yaml", t.TempDir(), data) })
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse(alias bomb) = %v, want Problems", err)
			}
			t.Logf("Parse allocated %d KiB for a %d-byte bomb", alloc>>10, len(data))
			if alloc > limit {
				t.Errorf("Parse(alias bomb) allocated %d MiB, want at most %d MiB", alloc>>20, limit>>20)
			}
			alloc = allocated(func() { FindSources(data) })
			if alloc > limit {
				t.Errorf("FindSources(alias bomb) allocated %d MiB, want at most %d MiB", alloc>>20, limit>>20)
			}
		})
	}
}

// allocated is how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// manySources is a valid feeds.yaml with n sources, every tenth on a
// schedule, two sections that name all of them and twenty that take all
// of them by tag.
func manySources(n int) []byte {
	var b strings.Builder
	b.WriteString("sources:\n")
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("source-%d", i)
		fmt.Fprintf(&b, "  - id: %s\n    url: https://feeds%d.example/rss\n    tags: [all, group-%d]\n", ids[i], i, i%10)
		if i%10 == 0 {
			b.WriteString("    schedule: \"*/15 6-23 * * *\"\n")
		}
	}
	b.WriteString("sections:\n")
	for i := range 2 {
		fmt.Fprintf(&b, "  - id: by-id-%d\n    sources: [%s]\n", i, strings.Join(ids, ", "))
	}
	for i := range 20 {
		fmt.Fprintf(&b, "  - id: by-tag-%d\n    tags: [all, group-%d]\n", i, i%10)
	}
	return []byte(b.String())
}

// TestManySourcesLinear: a feeds.yaml of 10,000 sources, with sections
// that name all of them, costs about ten times one of 1,000, not a hundred
// (a section's sources were found by scanning every source per name).
func TestManySourcesLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("parses a 40,000-line file")
	}
	checkLinear(t, func(n int) func() {
		data := manySources(n)
		return func() {
			cfg, err := Parse("feeds.yaml", t.TempDir(), data)
			if err != nil {
				t.Fatalf("Parse(%d sources) = %v", n, err)
			}
			if len(cfg.Sources) != n || len(cfg.Sections[0].Sources) != n || len(cfg.Sections[21].Sources) != n {
				t.Fatalf("Parse(%d sources): %d sources, sections of %d and %d; want %d each", n, len(cfg.Sources), len(cfg.Sections[0].Sources), len(cfg.Sections[21].Sources), n)
			}
		}
	})
}

// checkLinear fails unless the work setup(10000) returns costs about ten
// times that of setup(1000): linear is 10x, quadratic 100x; up to 30x
// leaves room for noise. It counts the process's CPU time, which other
// processes on a shared machine do not inflate; the two alternate, five
// runs each, and the best run of each counts.
func checkLinear(t *testing.T, setup func(n int) func()) {
	t.Helper()
	runSmall, runBig := setup(1000), setup(10000)
	timed := func(run func()) time.Duration {
		start := cputime.Used()
		run()
		return cputime.Used() - start
	}
	small, big := time.Duration(1<<63-1), time.Duration(1<<63-1)
	for range 5 {
		small = min(small, timed(runSmall))
		big = min(big, timed(runBig))
	}
	ratio := float64(big) / float64(max(small, time.Microsecond))
	t.Logf("1,000 sources: %v, 10,000 sources: %v of CPU (%.1fx)", small, big, ratio)
	if ratio > 30 {
		t.Errorf("10,000 sources took %v of CPU, 1,000 took %v: %.0fx, want about 10x (at most 30x)", big, small, ratio)
	}
}
