package status

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes rows as the full table: local dates with how far they
// are from now, whole results and notes, and, when a source has full_text
// on, an ARTICLES column ("12 fetched, 1 failed, 3 pending"; "-" for the
// sources without), and when a source has websub on or a push
// subscription, a PUSH column ("active until 2026-12-12 10:00").
func WriteText(w io.Writer, rows []Row, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// extra are the optional columns' cells, each with its tab.
	var extra []func(Row) string
	head := ""
	if anyArticles(rows) {
		extra = append(extra, func(r Row) string { return articleCell(r, (*Articles).String) + "\t" })
		head += "ARTICLES\t"
	}
	if anyPush(rows) {
		extra = append(extra, func(r Row) string { return pushCell(r, (*Push).String) + "\t" })
		head += "PUSH\t"
	}
	fmt.Fprintln(tw, "SOURCE\tLAST FETCH\tLAST RESULT\tITEMS\t"+head+"NEXT DUE\tNOTES")
	for _, s := range rows {
		last, next := "never", "now"
		if s.LastFetch != nil {
			last = when(*s.LastFetch, now)
		}
		switch {
		case s.NextDue == nil:
			next = "never"
		case s.NextDue.After(now):
			next = when(*s.NextDue, now)
		}
		cells := ""
		for _, cell := range extra {
			cells += cell(s)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s%s\t%s\n", s.ID, last, s.Summary, s.Items, cells, next, strings.Join(s.Notes, "; "))
	}
	return tw.Flush()
}

// WriteJSON writes rows as the indented JSON array that status -json and
// /status.json give scripts.
func WriteJSON(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}
