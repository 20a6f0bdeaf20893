package fetcher

import (
	"fmt"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Summary is the one line that says how a pass went: how many of the
// chosen sources were fetched in how long, how many brought new or changed
// items, were not modified or failed (named), how many were left to a serve
// that was fetching them, and why the rest were not fetched (force: held
// back by the publisher; otherwise not due yet).
func Summary(outcomes []Outcome, chosen int, force bool, took time.Duration) string {
	var ok, notModified, failed, added, updated, busy int
	var failures []string
	for _, o := range outcomes {
		switch {
		case o.Kind == KindBusy || o.Kind == KindLeaseLost: // another instance fetched it
			busy++
		case o.Err != nil:
			failed++
			failures = append(failures, o.Source.ID)
		case o.State.Result == newsdesk.ResultNotModified:
			notModified++
		default:
			ok++
			added += o.State.New
			updated += o.State.Updated
		}
	}
	sources := "sources"
	if chosen == 1 {
		sources = "source"
	}
	s := fmt.Sprintf("fetched %d of %d %s in %s: %d ok (%d new, %d updated), %d not modified, %d failed",
		len(outcomes)-busy, chosen, sources, took.Round(time.Millisecond), ok, added, updated, notModified, failed)
	if failed > 0 {
		s += " (" + strings.Join(failures, ", ") + "; see 'newsdesk status')"
	}
	if busy > 0 {
		s += fmt.Sprintf("; %d left to newsdesk serve, which was fetching %s", busy, map[bool]string{true: "it", false: "them"}[busy == 1])
	}
	switch skipped := chosen - len(outcomes); {
	case skipped > 0 && force:
		s += fmt.Sprintf("; %d held back (gone, or the publisher's Retry-After has not passed)", skipped)
	case skipped > 0:
		s += fmt.Sprintf("; %d not due yet (-force fetches them)", skipped)
	}
	return s
}
