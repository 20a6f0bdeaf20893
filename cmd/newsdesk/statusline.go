package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"
)

// The short form of status for a terminal: one line per source that fits
// the terminal's width (100 columns when it does not say), with relative
// times and the result and notes cut to fit. -v and -json give everything.

// defaultWidth is the width status fits when the terminal does not say.
const defaultWidth = 100

// terminalWidth is the width of the terminal w is, or 0 when w is not a
// terminal.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols >= 40 {
		return cols
	}
	return defaultWidth
}

// statusThroughDaemon runs status -json in the serve that holds the
// database and prints its answer in the short form.
func statusThroughDaemon(ctx context.Context, e *env, socket string, args []string, width int) error {
	var out bytes.Buffer
	if code := forward(ctx, socket, append([]string{"status", "-json"}, args...), &out, e.stderr, e.logFormat, nil); code != exitOK {
		return exitCode(code)
	}
	var list []sourceStatus
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		return fmt.Errorf("newsdesk serve's status: %w", err)
	}
	return writeStatusShort(e.stdout, list, time.Now(), width)
}

// exitCode is the exit code of a command that already said why (a
// forwarded one).
type exitCode int

func (c exitCode) Error() string { return "exit code " + strconv.Itoa(int(c)) }

// shortID caps the SOURCE column of the short form; RESULT and NOTES share
// what the other columns leave of the width.
const shortID = 20

// writeStatusShort writes the status table with every line at most width
// columns wide.
func writeStatusShort(w io.Writer, list []sourceStatus, now time.Time, width int) error {
	rows := [][]string{{"SOURCE", "LAST", "ITEMS", "NEXT", "RESULT", "NOTES"}}
	for _, s := range list {
		last, next := "never", "now"
		if s.LastFetch != nil {
			last = shortAgo(now.Sub(*s.LastFetch)) + " ago"
		}
		switch {
		case s.NextDue == nil:
			next = "never"
		case s.NextDue.After(now):
			next = "in " + shortAgo(s.NextDue.Sub(now))
		}
		rows = append(rows, []string{truncate(s.ID, shortID), last, strconv.Itoa(s.Items), next, s.Summary, strings.Join(s.Notes, "; ")})
	}
	widths := make([]int, 5)
	for _, r := range rows {
		for i := range widths {
			widths[i] = max(widths[i], len([]rune(r[i])))
		}
	}
	rest := width
	for _, n := range widths[:4] {
		rest -= n + 2
	}
	// The result gets up to half of the rest, the notes what remains.
	widths[4] = max(min(widths[4], rest/2), 12)
	notes := max(rest-widths[4]-2, 10)
	cut := false
	var b strings.Builder
	for _, r := range rows {
		cells := []string{r[0], r[1], r[2], r[3], truncate(r[4], widths[4]), truncate(r[5], notes)}
		cut = cut || cells[4] != r[4] || cells[5] != r[5] || strings.HasSuffix(r[0], "…")
		b.Reset()
		// SOURCE LAST RESULT ITEMS NEXT NOTES, as in the full form.
		for _, i := range []int{0, 1, 4, 2, 3} {
			b.WriteString(cells[i])
			b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(cells[i]))+2))
		}
		b.WriteString(cells[5])
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	if cut {
		_, err := fmt.Fprintln(w, "(cut to fit the terminal: newsdesk status -v for everything)")
		return err
	}
	return nil
}

// shortAgo is a duration in its largest units: 45s, 12m, 3h10m, 4d.
func shortAgo(d time.Duration) string {
	d = d.Abs()
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return strconv.Itoa(h) + "h"
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}
