package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/fetcher"
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
	fmt.Fprintln(tw, "SOURCE\tLAST FETCH\tLAST RESULT\tITEMS\tNEXT DUE\tNOTES")
	for _, src := range cfg.Sources {
		st, err := db.State(src.ID)
		found := err == nil
		if err != nil && !errors.Is(err, newsdesk.ErrNotFound) {
			return err
		}
		n, err := db.CountItems(src.ID)
		if err != nil {
			return err
		}
		last := "never"
		if found {
			last = when(st.LastFetch, now)
		}
		next := "now"
		switch due, at := fetcher.Due(src, st, found, now.UTC(), false); {
		case !due && at.IsZero():
			next = "never"
		case !due:
			next = when(at, now)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", src.ID, last, st.Summary(), n, next, strings.Join(notes(src, st, found, now), "; "))
	}
	return tw.Flush()
}

// notes are what an operator should know about a source beyond its last
// result: that it is gone or moved, that it keeps failing, and what the
// publisher asks of pollers.
func notes(src newsdesk.Source, st newsdesk.FetchState, found bool, now time.Time) []string {
	if !found || st.URL != src.URL {
		return nil
	}
	var out []string
	if st.Gone {
		out = append(out, "GONE (HTTP 410): not fetched again until its url in feeds.yaml changes")
	}
	if st.MovedTo != "" {
		out = append(out, "moved permanently to "+st.MovedTo+": update its url in feeds.yaml")
	}
	if st.Result == newsdesk.ResultError && st.Failures > 1 {
		out = append(out, fmt.Sprintf("%d failures in a row", st.Failures))
	}
	if st.Result == newsdesk.ResultError {
		if st.LastSuccess.IsZero() {
			out = append(out, "never succeeded")
		} else {
			out = append(out, "last success "+when(st.LastSuccess, now))
		}
	}
	if st.RetryAfter.After(now) {
		out = append(out, "publisher asked to wait until "+st.RetryAfter.Local().Format("2006-01-02 15:04:05")+" (Retry-After)")
	}
	if st.CacheUntil.After(now) && !src.IgnoreCacheHeaders {
		out = append(out, "cached until "+st.CacheUntil.Local().Format("15:04:05")+" (max-age)")
	}
	if src.Schedule != "" {
		out = append(out, "schedule "+src.Schedule)
	}
	if h := hintsText(st.Hints); h != "" {
		if src.IntervalSet {
			h += " (ignored: feeds.yaml sets its interval)"
		}
		out = append(out, "feed asks: "+h)
	}
	return out
}

func hintsText(h newsdesk.FeedHints) string {
	var parts []string
	if h.TTL > 0 {
		parts = append(parts, "ttl "+h.TTL.String())
	}
	if h.UpdatePeriod != "" {
		p := "updates " + h.UpdatePeriod
		if h.UpdateFrequency > 1 {
			p = fmt.Sprintf("updates %d times %s", h.UpdateFrequency, h.UpdatePeriod)
		}
		parts = append(parts, p)
	}
	if len(h.SkipHours) > 0 {
		hours := make([]string, len(h.SkipHours))
		for i, hr := range h.SkipHours {
			hours[i] = fmt.Sprint(hr)
		}
		parts = append(parts, "skip hours "+strings.Join(hours, ",")+" GMT")
	}
	if len(h.SkipDays) > 0 {
		names := make([]string, len(h.SkipDays))
		for i, d := range h.SkipDays {
			names[i] = d.String()[:3]
		}
		parts = append(parts, "skip "+strings.Join(names, ","))
	}
	return strings.Join(parts, ", ")
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
