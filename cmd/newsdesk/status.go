package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/store"
)

func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("status")
	asJSON := fs.Bool("json", false, "print JSON for scripts instead of a table")
	verbose := fs.Bool("v", false, "full detail: dates, whole results and notes (a terminal gets one short line per source)")
	if err := parse(fs, args); err != nil {
		return err
	}
	// A person at a terminal gets lines that fit it; pipes, files and -v the
	// full detail.
	width := 0
	if !*asJSON && !*verbose {
		width = terminalWidth(e.stdout)
	}
	cfg, db, err := e.open(*config)
	var fwd errForward
	if width > 0 && errors.As(err, &fwd) {
		// serve holds the database and has no terminal: ask it for JSON and
		// fit the lines to this one.
		return statusThroughDaemon(ctx, e, fwd.socket, args, width)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := collectStatus(cfg, db, time.Now())
	if err != nil {
		return err
	}
	switch {
	case *asJSON:
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	case width > 0:
		return writeStatusShort(e.stdout, list, time.Now(), width)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLAST FETCH\tLAST RESULT\tITEMS\tNEXT DUE\tNOTES")
	now := time.Now()
	for _, s := range list {
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

// sourceStatus is what status, /status and /status.json show of a source.
type sourceStatus struct {
	ID          string             `json:"id"`
	Title       string             `json:"title"`
	URL         string             `json:"url"`
	Result      string             `json:"result"`  // ok, not_modified, error, never_fetched: as in history
	Summary     string             `json:"summary"` // for people: "ok 3 new", "not modified", "error: reason", "never fetched"
	Error       string             `json:"error,omitempty"`
	LastFetch   *time.Time         `json:"last_fetch,omitempty"`
	LastSuccess *time.Time         `json:"last_success,omitempty"`
	NextDue     *time.Time         `json:"next_due,omitempty"` // absent: never (gone)
	Items       int                `json:"items"`
	Failures    int                `json:"consecutive_failures"`
	Stale       bool               `json:"stale"` // no success for 3x its interval
	Gone        bool               `json:"gone,omitempty"`
	MovedTo     string             `json:"moved_to,omitempty"`
	Capped      int                `json:"capped,omitempty"`  // items of the feed, as last read, over max_items_per_fetch
	Skipped     int                `json:"skipped,omitempty"` // items of the feed, as last read, that could not be stored
	SkipReason  string             `json:"skip_reason,omitempty"`
	Notes       []string           `json:"notes,omitempty"`
	History     []newsdesk.Attempt `json:"history,omitempty"` // the last 48 fetches, oldest first

	// A source removed from feeds.yaml whose items are still stored.
	Orphaned  bool       `json:"orphaned,omitempty"`
	RemovedAt *time.Time `json:"removed_at,omitempty"` // first seen missing from feeds.yaml
	PurgeAt   *time.Time `json:"purge_at,omitempty"`   // when run or serve purge it; absent: never (purge_removed_after 0)
}

// collectStatus gathers every configured source's status, stale sources
// first, then in config order, and after them the sources removed from
// feeds.yaml whose items are still stored.
func collectStatus(cfg *config.Config, db interface {
	State(string) (newsdesk.FetchState, error)
	CountItems(string) (int, error)
	Orphans([]string) ([]store.Orphan, error)
}, now time.Time) ([]sourceStatus, error) {
	var out []sourceStatus
	orphans, err := db.Orphans(cfg.SourceIDs())
	if err != nil {
		return nil, err
	}
	for _, src := range cfg.Sources {
		st, err := db.State(src.ID)
		found := err == nil
		if err != nil && !errors.Is(err, newsdesk.ErrNotFound) {
			return nil, err
		}
		n, err := db.CountItems(src.ID)
		if err != nil {
			return nil, err
		}
		s := sourceStatus{ID: src.ID, Title: src.Title, URL: src.URL, Result: resultValue(st, found), Summary: st.Summary(), Items: n}
		if s.Title == "" {
			s.Title = st.FeedTitle
		}
		if found {
			s.LastFetch = timePtr(st.LastFetch)
			s.LastSuccess = timePtr(st.LastSuccess)
			s.Failures, s.Error = st.Failures, st.Error
			if st.URL == src.URL {
				s.Gone, s.MovedTo, s.History = st.Gone, st.MovedTo, st.History
				s.Capped, s.Skipped, s.SkipReason = st.Capped, st.Skipped, st.SkipReason
				s.Stale = st.Stale(fetcher.Interval(src, st.Hints), now)
			}
		}
		if due, at := fetcher.Due(src, st, found, now.UTC(), false); due {
			s.NextDue = timePtr(now)
		} else if !at.IsZero() {
			s.NextDue = timePtr(at)
		}
		s.Notes = notes(src, st, found, now)
		if s.Stale {
			s.Notes = append([]string{"STALE: no successful fetch for 3 intervals"}, s.Notes...)
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b sourceStatus) int {
		switch {
		case a.Stale && !b.Stale:
			return -1
		case b.Stale && !a.Stale:
			return 1
		}
		return 0
	})
	for _, o := range orphans {
		st, err := db.State(o.SourceID)
		if err != nil && !errors.Is(err, newsdesk.ErrNotFound) {
			return nil, err
		}
		out = append(out, orphanStatus(cfg, o, st, err == nil))
	}
	return out, nil
}

// resultValue is the last result as scripts read it: the same values as
// the history's and the metrics' (ok, not_modified, error), or
// never_fetched.
func resultValue(st newsdesk.FetchState, found bool) string {
	if !found || st.Result == "" {
		return "never_fetched"
	}
	return string(st.Result)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
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
	if st.Capped > 0 {
		out = append(out, fmt.Sprintf("%d items over max_items_per_fetch (%d) not stored", st.Capped, src.MaxItemsPerFetch))
	}
	if st.Skipped > 0 {
		out = append(out, fmt.Sprintf("%d items could not be stored (%s)", st.Skipped, st.SkipReason))
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
	if src.Schedule != nil {
		out = append(out, "schedule "+src.Schedule.String())
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
