package config

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// brokenConfig is a feeds.yaml with n sources and one bad indent in the
// middle source, and the line of that mistake.
func brokenConfig(n int) (data []byte, line int) {
	var b strings.Builder
	b.WriteString("sources:\n")
	lines := 1
	for i := range n {
		fmt.Fprintf(&b, "  - id: s%d\n", i)
		indent := "    "
		if i == n/2 {
			indent = "   "
			line = lines + 2
		}
		fmt.Fprintf(&b, "%surl: https://example.com/%d\n", indent, i)
		lines += 2
	}
	b.WriteString("sections:\n  - id: all\n    sources: [s0]\n")
	return []byte(b.String()), line
}

// TestSyntaxProblemLinear: finding the line of a bad indent costs what the
// file costs to parse, not that times its lines (10,000 sources took 452 s).
func TestSyntaxProblemLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("parses a 20,000-line file")
	}
	checkLinear(t, func(n int) func() {
		data, line := brokenConfig(n)
		want := fmt.Sprintf("feeds.yaml:%d:1: YAML syntax: did not find expected '-' indicator", line)
		return func() {
			if _, err := Parse("feeds.yaml", t.TempDir(), data); err == nil || err.Error() != want {
				t.Fatalf("Parse(%d sources) = %v, want %s", n, err, want)
			}
		}
	})
}

// countdownContext is a context whose Err turns to Canceled after a number
// of calls, to cancel a parse part-way through.
type countdownContext struct {
	context.Context
	left atomic.Int64
}

func (c *countdownContext) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestLoadConfigCancelled: a cancelled context (Ctrl-C on check, shutdown
// of serve during a reload) stops reading the config part-way, with the
// context's error rather than a problem list.
func TestLoadConfigCancelled(t *testing.T) {
	data, _ := brokenConfig(10000)
	for _, at := range []int64{0, 100, 15000} { // before, in the first pass, in the search for the line
		ctx := &countdownContext{Context: context.Background()}
		ctx.left.Store(at)
		_, err := parse(ctx, "feeds.yaml", t.TempDir(), data, osLookup)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("parse(cancelled after %d checks) = %v, want context.Canceled", at, err)
		}
		// It stopped: a handful of checks past the cancellation, not a parse
		// of the rest of the file (20,000 lines).
		if extra := -ctx.left.Load(); extra > 10 {
			t.Errorf("cancelled after %d checks: %d more checks followed, want it to stop", at, extra)
		}
	}
}
