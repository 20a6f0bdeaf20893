package progress

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Count is a bar for a long copy (`newsdesk migrate`): how many of total
// things are done, with a description that says what. It is not safe for
// concurrent use.
type Count struct {
	bar *progressbar.ProgressBar
}

// NewCount draws a bar for total things on w, described as what.
func NewCount(w io.Writer, total int, what string) *Count {
	return &Count{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)}
}

// Set moves the bar to done of total (total may grow as it becomes known),
// with what as its description.
func (c *Count) Set(done, total int, what string) {
	if int64(total) != c.bar.GetMax64() {
		c.bar.ChangeMax(total)
	}
	c.bar.Describe(what)
	c.bar.Set(done)
}

// Finish clears the bar, so the summary line takes its place.
func (c *Count) Finish() {
	c.bar.Finish()
	c.bar.Clear()
}
