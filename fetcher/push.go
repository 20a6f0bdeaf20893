package fetcher

import (
	"context"
	"fmt"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// WebSub push (issue 14): what a source's hub pushes is ingested like the
// body of a fetch (the same parsing, sanitizing and caps), but stored with
// SavePush, which adds and updates items without touching the source's
// fetch state. While the source's subscription is active it is polled
// only every newsdesk.SafetyNetInterval.

// Ingest parses body, a feed a hub pushed for the source sourceID with
// the given Content-Type, normalizes it exactly as a fetched body
// (sanitizing, caps, max_items_per_fetch), stores its items with
// store.WebSubStore.SavePush, fetches the articles of the new ones when
// the source has full_text, then calls OnPush. The source's validators,
// next due time and tombstones are not changed. It returns an error for a
// source not configured, a store without WebSub, a body that is not a
// feed, or one that cannot be stored (newsdesk.ErrNotFound when the
// source was never fetched).
func (s *Scheduler) Ingest(ctx context.Context, sourceID string, body []byte, contentType string) (store.PushResult, error) {
	src, ok := s.source(sourceID)
	if !ok {
		return store.PushResult{}, fmt.Errorf("push for source %q: it is not in feeds.yaml", sourceID)
	}
	ws, ok := s.Store.(store.WebSubStore)
	if !ok {
		return store.PushResult{}, fmt.Errorf("push for source %q: the store keeps no WebSub data", sourceID)
	}
	st, err := s.Store.State(src.ID)
	if err != nil {
		return store.PushResult{}, fmt.Errorf("push for source %q: %w", sourceID, err)
	}
	now := s.now()
	resp, err := parse(body, contentType, feedBase(fetchURL(src, forURL(src, st))), src, now)
	if err != nil {
		return store.PushResult{}, fmt.Errorf("push for source %q: %w", sourceID, err)
	}
	res, err := ws.SavePush(src.ID, resp.Items, src.Retention, now)
	if err != nil {
		return res, fmt.Errorf("push for source %q: %w", sourceID, err)
	}
	log := s.Logger.With("source", src.ID)
	log.Info("pushed by the hub", "new", res.New, "updated", res.Updated, "skipped", res.Skipped)
	if src.FullText.Enabled && res.New > 0 {
		s.articlePass(ctx, src, st, s.now, log)
	}
	if s.OnPush != nil {
		s.OnPush(src.ID, res)
	}
	return res, nil
}

// afterPush is src as its next due time is computed after a successful
// fetch: while its hub pushes (PushActive), polled every
// newsdesk.SafetyNetInterval, or at its own interval when that is longer,
// instead of its interval or schedule.
func (s *Scheduler) afterPush(src newsdesk.Source) newsdesk.Source {
	if !s.pushing(src.ID) {
		return src
	}
	src.Interval = max(src.Interval, newsdesk.SafetyNetInterval)
	src.Schedule, src.IntervalSet = nil, true
	return src
}

// pushing reports whether the source's hub pushes its items now.
func (s *Scheduler) pushing(id string) bool {
	return s.PushActive != nil && s.PushActive(id)
}

// pushEnded is the source's next due time from its state st: NextDue, or,
// when the last fetch stretched it to the safety net (st.SafetyNet) and
// the hub no longer pushes (the subscription lapsed, was denied or turned
// off), when its own interval or schedule after that fetch would have
// made it due, if that is sooner. Without it a source whose push stopped
// would wait up to SafetyNetInterval for its next poll.
func (s *Scheduler) pushEnded(src newsdesk.Source, st newsdesk.FetchState) time.Time {
	if !st.SafetyNet || s.pushing(src.ID) {
		return st.NextDue
	}
	own := st.LastFetch.Add(Interval(src, st.Hints))
	if src.Schedule != nil {
		own = src.Schedule.Next(st.LastFetch)
	}
	if own.IsZero() || !own.Before(st.NextDue) {
		return st.NextDue
	}
	return own
}
