// Package status is what `newsdesk status`, /status and /status.json show,
// one row per source: its last fetch and result, stored items, when it is
// due next and what an operator should know about it (stale sources first,
// then in feeds.yaml order, then the sources removed from feeds.yaml whose
// items are still stored), written as a table, a terminal-wide short form,
// JSON or the HTML page.
//
// A source with full_text on also shows its articles: fetched, failed,
// pending and the last error (Articles). A source with websub on, or a
// subscription at its hub, shows its push state (Push), and the readers'
// subscriptions at newsdesk's own hub follow the sources (Subscriber).
//
// It only reads: it takes the configuration and the polling policy as plain
// values and reads the store through the small Store interface (whose
// ArticleStats returns the store contract's type, so it imports store, never
// an engine). It must not import config, fetcher or a store engine;
// cmd/newsdesk wires them in.
package status

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Row is what status, /status and /status.json show of a source.
type Row struct {
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
	Articles    *Articles          `json:"articles,omitempty"` // sources with full_text only
	WebSub      *Push              `json:"websub,omitempty"`   // sources with websub on or a push subscription only
	History     []newsdesk.Attempt `json:"history,omitempty"`  // the last 48 fetches, oldest first

	// A source removed from feeds.yaml whose items are still stored.
	Orphaned  bool       `json:"orphaned,omitempty"`
	RemovedAt *time.Time `json:"removed_at,omitempty"` // first seen missing from feeds.yaml
	PurgeAt   *time.Time `json:"purge_at,omitempty"`   // when run or serve purge it; absent: never (purge_removed_after 0)
}

// Store is what the report reads of the store.
type Store interface {
	// State returns a source's fetch state, or an error matching
	// newsdesk.ErrNotFound when it was never fetched.
	State(sourceID string) (newsdesk.FetchState, error)
	// CountItems returns how many items of a source are stored.
	CountItems(sourceID string) (int, error)
	// ArticleStats counts the articles of a full-text source, and its
	// items first seen at or after since that have none yet.
	ArticleStats(sourceID string, since time.Time) (store.ArticleStats, error)
}

// Orphan is a stored source that feeds.yaml no longer lists, as the store
// reports it.
type Orphan struct {
	SourceID string
	Items    int
	// RemovedAt is when it was first seen missing from feeds.yaml; zero
	// until run or serve has seen it.
	RemovedAt time.Time
}

// Config is what the report needs of feeds.yaml and of the polling policy.
type Config struct {
	Sources           []newsdesk.Source
	PurgeRemovedAfter time.Duration // storage.purge_removed_after; 0 keeps orphans
	// Interval is how often a source is polled when all goes well, and Due
	// whether it is due at now and else when (fetcher.Interval and
	// fetcher.Due: the report shows the policy the scheduler follows).
	Interval func(src newsdesk.Source, hints newsdesk.FeedHints) time.Duration
	Due      func(src newsdesk.Source, st newsdesk.FetchState, found bool, now time.Time, force bool) (bool, time.Time)
	// Push are the sources' subscriptions at their hubs
	// (store.WebSubStore.PushSubscriptions), and WebSubReachable whether
	// a hub elsewhere can reach newsdesk's callbacks (config's
	// Config.WebSubReachable): without it a source with websub on shows
	// "no base_url".
	Push            []newsdesk.PushSubscription
	WebSubReachable bool
}

// Collect gathers every configured source's row, stale sources first, then
// in config order, and after them the rows of orphans, the sources removed
// from feeds.yaml whose items are still stored.
func Collect(cfg Config, db Store, orphans []Orphan, now time.Time) ([]Row, error) {
	var out []Row
	subs := make(map[string]newsdesk.PushSubscription, len(cfg.Push))
	for _, p := range cfg.Push {
		subs[p.SourceID] = p
	}
	for _, src := range cfg.Sources {
		s, err := sourceRow(cfg, db, src, subs, now)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b Row) int {
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
		row := orphanRow(cfg, o, st, err == nil)
		if p, ok := subs[o.SourceID]; ok {
			row.WebSub = push(false, st, err == nil, p, true, cfg.WebSubReachable, now)
		}
		out = append(out, row)
	}
	return out, nil
}

// sourceRow is the row of a configured source, whose push subscription,
// if it has one, is in subs.
func sourceRow(cfg Config, db Store, src newsdesk.Source, subs map[string]newsdesk.PushSubscription, now time.Time) (Row, error) {
	st, err := db.State(src.ID)
	found := err == nil
	if err != nil && !errors.Is(err, newsdesk.ErrNotFound) {
		return Row{}, err
	}
	n, err := db.CountItems(src.ID)
	if err != nil {
		return Row{}, err
	}
	s := Row{ID: src.ID, Title: src.Title, URL: newsdesk.RedactURL(src.URL), Result: resultValue(st, found), Summary: st.Summary(), Items: n}
	if s.Title == "" {
		s.Title = st.FeedTitle
	}
	if found {
		s.LastFetch = timePtr(st.LastFetch)
		s.LastSuccess = timePtr(st.LastSuccess)
		s.Failures, s.Error = st.Failures, st.Error
		if st.URL == src.URL {
			s.Gone, s.MovedTo, s.History = st.Gone, newsdesk.RedactURL(st.MovedTo), st.History
			s.Capped, s.Skipped, s.SkipReason = st.Capped, st.Skipped, st.SkipReason
			s.Stale = st.Stale(cfg.Interval(src, st.Hints), now)
		}
	}
	if due, at := cfg.Due(src, st, found, now.UTC(), false); due {
		s.NextDue = timePtr(now)
	} else if !at.IsZero() {
		s.NextDue = timePtr(at)
	}
	s.Notes = notes(src, st, found, now)
	if src.FullText.Enabled {
		if s.Articles, err = articles(db, src, st, now); err != nil {
			return Row{}, err
		}
		if note := articleNote(s.Articles, now); note != "" {
			s.Notes = append(s.Notes, note)
		}
	}
	p, ok := subs[src.ID]
	s.WebSub = push(src.WebSub, st, found, p, ok, cfg.WebSubReachable, now)
	if s.Stale {
		s.Notes = append([]string{"STALE: no successful fetch for 3 intervals"}, s.Notes...)
	}
	return s, nil
}

// orphanRow is the row of a source removed from feeds.yaml.
func orphanRow(cfg Config, o Orphan, st newsdesk.FetchState, found bool) Row {
	s := Row{ID: o.SourceID, Title: st.FeedTitle, URL: newsdesk.RedactURL(st.URL), Result: resultValue(st, found), Summary: "orphaned: not in feeds.yaml",
		Items: o.Items, Orphaned: true, LastFetch: timePtr(st.LastFetch), LastSuccess: timePtr(st.LastSuccess)}
	note := "removed from feeds.yaml"
	switch {
	case o.RemovedAt.IsZero():
		note += "; the grace period starts at the next run or serve"
	case cfg.PurgeRemovedAfter <= 0:
		s.RemovedAt = timePtr(o.RemovedAt)
		note += " on " + o.RemovedAt.Local().Format("2006-01-02") + "; kept (storage.purge_removed_after: 0)"
	default:
		s.RemovedAt = timePtr(o.RemovedAt)
		s.PurgeAt = timePtr(o.RemovedAt.Add(cfg.PurgeRemovedAfter))
		note += " on " + o.RemovedAt.Local().Format("2006-01-02") + "; its items are purged after " + s.PurgeAt.Local().Format("2006-01-02 15:04")
	}
	s.Notes = []string{note + " ('newsdesk purge' does it now; put it back in feeds.yaml to keep it)"}
	return s
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
		out = append(out, "moved permanently to "+newsdesk.RedactURL(st.MovedTo)+": update its url in feeds.yaml")
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
