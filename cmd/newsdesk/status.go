package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/newsdesk/newsdesk"
)

func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("status")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, db, err := e.open(*config)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLAST FETCH\tLAST RESULT\tITEMS\tNEXT DUE")
	for _, src := range cfg.Sources {
		st, err := db.State(src.ID)
		if err != nil && !errors.Is(err, newsdesk.ErrNotFound) {
			return err
		}
		n, err := db.CountItems(src.ID)
		if err != nil {
			return err
		}
		last, next := "never", "now"
		if !st.LastFetch.IsZero() {
			last = when(st.LastFetch, now)
			if st.URL == src.URL && st.NextDue.After(now) {
				next = when(st.NextDue, now)
			}
		}
		result := st.Summary()
		if st.Result == newsdesk.ResultError && st.Failures > 1 {
			result += fmt.Sprintf(" (%d failures in a row)", st.Failures)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", src.ID, last, result, n, next)
	}
	return tw.Flush()
}

// when shows a time in local time with how far it is from now.
func when(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	rel := "in " + d.String()
	switch {
	case d == 0:
		rel = "just now"
	case d < 0:
		rel = (-d).String() + " ago"
	}
	return t.Local().Format("2006-01-02 15:04:05") + " (" + rel + ")"
}
