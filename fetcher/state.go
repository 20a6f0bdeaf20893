package fetcher

import (
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
)

// What a fetch does to a source's stored state: pure functions of the
// state before, the response or error, and the clock, like the polling
// policy, so each rule is testable without a server or a store.

// forURL is the state a fetch of src starts from, given the stored state
// prev: prev itself, or when feeds.yaml gives the source a new URL, a fresh
// state that keeps only the feed's title, link and last success. What was
// learnt about the old URL (validators, a 410, a move, a Retry-After) no
// longer applies.
func forURL(src newsdesk.Source, prev newsdesk.FetchState) newsdesk.FetchState {
	if prev.URL == src.URL {
		return prev
	}
	return newsdesk.FetchState{SourceID: src.ID, URL: src.URL, FeedTitle: prev.FeedTitle, FeedLink: prev.FeedLink, LastSuccess: prev.LastSuccess,
		FullTextSince: prev.FullTextSince}
}

// started is st as a fetch that ended at now begins its record: the
// source's id and the time set, the last fetch's counts and error cleared.
// It is what is recorded when the fetched items cannot be stored.
func started(sourceID string, st newsdesk.FetchState, now time.Time) newsdesk.FetchState {
	st.SourceID = sourceID
	st.LastFetch = now
	st.New, st.Updated, st.Error = 0, 0, ""
	return st
}

// applyResult is the state a fetch of src leaves, from st (started) and
// the fetch's response or error, with the items to store (those of a 200)
// and the outcome's kind: "ok", "not_modified" or the error's kind. late
// is whether the fetch began off the source's schedule (late).
//
//   - A failure counts (Failures), is recorded with its error, and teaches
//     what a 410 or a Retry-After says (afterFailure).
//   - A success resets the failures and any Retry-After, records the cache
//     time, and keeps the validators of a 304 that sends none; a 200
//     replaces them and the feed's title, link, id, dates, authors, hints
//     and capped count. A permanent redirect is remembered (MovedTo).
//   - Either way the next due time is set (nextDue) and the attempt goes
//     into the history, and FullTextSince is set to this fetch's time
//     when full_text is on and it was not yet (items first seen from now
//     on get their article), cleared when it is off.
func applyResult(src newsdesk.Source, st newsdesk.FetchState, late bool, resp *Response, err error) (newsdesk.FetchState, []newsdesk.Item, string) {
	st.History = slices.Clone(st.History)
	var items []newsdesk.Item
	kind, errKind := "", ""
	if err != nil {
		st.Result = newsdesk.ResultError
		st.Error = err.Error()
		st.Failures++
		st = afterFailure(st, err, st.LastFetch)
		kind = ErrorKind(err)
		errKind = kind
	} else {
		st.Result = resp.Result
		st.Failures = 0
		st.RetryAfter = time.Time{}
		st.LastSuccess = st.LastFetch
		st.CacheUntil = resp.CacheUntil
		if resp.ETag != "" || resp.Result == newsdesk.ResultOK {
			st.ETag = resp.ETag
		}
		if resp.LastModified != "" || resp.Result == newsdesk.ResultOK {
			st.LastModified = resp.LastModified
		}
		if resp.Result == newsdesk.ResultOK {
			st.FeedTitle, st.FeedLink, st.Hints = resp.FeedTitle, resp.FeedLink, resp.Hints
			st.FeedID, st.FeedUpdated, st.FeedAuthors = resp.FeedID, resp.FeedUpdated, resp.FeedAuthors
			st.Capped = resp.Capped
			st.WebSub = resp.WebSub
			items = resp.Items
		}
		if resp.MovedTo != "" {
			st.MovedTo = resp.MovedTo
		}
		kind = string(st.Result)
	}
	switch {
	case !src.FullText.Enabled:
		st.FullTextSince = time.Time{}
	case st.FullTextSince.IsZero():
		st.FullTextSince = st.LastFetch
	}
	st.NextDue = nextDue(src, st, late, st.LastFetch)
	st.Record(newsdesk.Attempt{At: st.LastFetch, Result: st.Result, Kind: errKind})
	return st, items, kind
}

// storeFailed is the state that records a fetch whose items could not be
// stored, made from the state before the response was applied (before):
// the validators stay those of the items that are stored, so the next
// fetch gets the feed again rather than a 304; the failure counts and
// backs off like any other.
func storeFailed(src newsdesk.Source, before newsdesk.FetchState, err error) newsdesk.FetchState {
	st := before
	st.History = slices.Clone(before.History)
	st.Result = newsdesk.ResultError
	st.Error = "could not store the fetched items: " + err.Error()
	st.Failures++
	st.NextDue = nextDue(src, st, false, st.LastFetch) // a failure: late makes no difference
	st.Record(newsdesk.Attempt{At: st.LastFetch, Result: st.Result, Kind: kindStore})
	return st
}
