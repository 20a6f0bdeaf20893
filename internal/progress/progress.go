// Package progress is the progress bar of a fetch pass on a terminal:
// sources done of those chosen, new items, failures, elapsed time. It is
// the only package that imports the progress-bar library. Off a terminal
// (cron) there is none: commands print only their summary and errors.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Bar counts the sources of a pass as they finish; it is safe for
// concurrent use.
type Bar struct {
	mu          sync.Mutex
	bar         *progressbar.ProgressBar
	added, fail int
}

// New draws a bar for total sources on w.
func New(w io.Writer, total int) *Bar {
	return &Bar{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("fetching"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)}
}

// Done counts one source finished, with the items it brought and whether
// it failed.
func (b *Bar) Done(added int, failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.added += added
	if failed {
		b.fail++
	}
	b.bar.Add(1)
	b.bar.Describe(fmt.Sprintf("fetching: %d new, %d failed", b.added, b.fail))
}

// Finish clears the bar, so the summary line takes its place.
func (b *Bar) Finish() {
	b.bar.Finish()
	b.bar.Clear()
}
