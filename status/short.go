package status

import (
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

// TerminalWidth is the width of the terminal w is, or 0 when w is not a
// terminal.
func TerminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols >= 40 {
		return cols
	}
	return defaultWidth
}

// shortID caps the SOURCE column of the short form; RESULT and NOTES share
// what the other columns leave of the width.
const shortID = 20

// WriteShort writes rows as the short table, every line at most width
// columns wide (TerminalWidth). When a source has full_text on, an
// ARTICLES column after ITEMS gives fetched/failed/pending ("-" for the
// sources without); when a source has websub on or a push subscription, a
// PUSH column gives its state in a word or two ("active", "not offered").
func WriteShort(w io.Writer, rows []Row, now time.Time, width int) error {
	// Columns are printed in the order of order; NOTES (5) comes last and
	// gets what the others leave.
	order := []int{0, 1, 4, 2}
	if anyArticles(rows) {
		order = append(order, 6)
	}
	if anyPush(rows) {
		order = append(order, 7)
	}
	order = append(order, 3)
	cells := [][]string{{"SOURCE", "LAST", "ITEMS", "NEXT", "RESULT", "NOTES", "ARTICLES", "PUSH"}}
	for _, s := range rows {
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
		cells = append(cells, []string{truncate(s.ID, shortID), last, strconv.Itoa(s.Items), next, s.Summary, strings.Join(s.Notes, "; "),
			articleCell(s, (*Articles).short), pushCell(s, (*Push).short)})
	}
	widths := make([]int, 8)
	for _, r := range cells {
		for _, i := range order {
			widths[i] = max(widths[i], len([]rune(r[i])))
		}
	}
	rest := width
	for _, i := range order {
		if i != 4 {
			rest -= widths[i] + 2
		}
	}
	// The result gets up to half of the rest, the notes what remains.
	widths[4] = max(min(widths[4], rest/2), 12)
	notes := max(rest-widths[4]-2, 10)
	cut := false
	var b strings.Builder
	for _, r := range cells {
		line := []string{r[0], r[1], r[2], r[3], truncate(r[4], widths[4]), truncate(r[5], notes), r[6], r[7]}
		cut = cut || line[4] != r[4] || line[5] != r[5] || strings.HasSuffix(r[0], "…")
		b.Reset()
		// SOURCE LAST RESULT ITEMS [ARTICLES] [PUSH] NEXT NOTES, as in the
		// full form.
		for _, i := range order {
			b.WriteString(line[i])
			b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(line[i]))+2))
		}
		b.WriteString(line[5])
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

// truncate cuts s to n runes, the last of them "…".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
