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
// are from now, whole results and notes.
func WriteText(w io.Writer, rows []Row, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLAST FETCH\tLAST RESULT\tITEMS\tNEXT DUE\tNOTES")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, last, s.Summary, s.Items, next, strings.Join(s.Notes, "; "))
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
