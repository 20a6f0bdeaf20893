package fetcher

import (
	"errors"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestApplyResult is the state update of a fetch, as a table like the
// polling policy's: what each kind of response or failure leaves in the
// stored state.
func TestApplyResult(t *testing.T) {
	src := newsdesk.Source{ID: "a", URL: "https://a.example/rss", Interval: 10 * time.Minute, IntervalSet: true}
	prev := newsdesk.FetchState{
		SourceID: "a", URL: src.URL, ETag: `"v1"`, LastModified: "Wed, 25 Nov 2026 10:00:00 GMT",
		FeedTitle: "Old title", Result: newsdesk.ResultError, Failures: 2, Error: "http status 500",
		RetryAfter: p0.Add(-time.Minute), Capped: 3, MovedTo: "https://b.example/rss",
		History: []newsdesk.Attempt{{At: p0.Add(-time.Hour), Result: newsdesk.ResultError, Kind: "http_500"}},
	}
	items := []newsdesk.Item{{ID: "1"}}
	ok200 := &Response{Result: newsdesk.ResultOK, ETag: `"v2"`, FeedTitle: "New title", Items: items, Capped: 0, CacheUntil: p0.Add(time.Hour)}
	bare304 := &Response{Result: newsdesk.ResultNotModified}
	moved := &Response{Result: newsdesk.ResultNotModified, MovedTo: "https://c.example/rss"}
	tests := []struct {
		name      string
		resp      *Response
		err       error
		wantKind  string
		wantItems int
		check     func(t *testing.T, st newsdesk.FetchState)
	}{
		{"200 replaces validators and feed metadata", ok200, nil, "ok", 1, func(t *testing.T, st newsdesk.FetchState) {
			if st.ETag != `"v2"` || st.LastModified != "" || st.FeedTitle != "New title" || st.Capped != 0 {
				t.Errorf("validators/metadata = %q %q %q capped %d, want the 200's", st.ETag, st.LastModified, st.FeedTitle, st.Capped)
			}
			if st.Failures != 0 || !st.RetryAfter.IsZero() || !st.LastSuccess.Equal(p0) || !st.CacheUntil.Equal(p0.Add(time.Hour)) {
				t.Errorf("after success: failures %d, retry-after %v, last success %v, cache until %v", st.Failures, st.RetryAfter, st.LastSuccess, st.CacheUntil)
			}
		}},
		{"304 without validators keeps the old ones", bare304, nil, "not_modified", 0, func(t *testing.T, st newsdesk.FetchState) {
			if st.ETag != `"v1"` || st.LastModified != prev.LastModified || st.FeedTitle != "Old title" || st.Capped != 3 {
				t.Errorf("after 304: %q %q %q capped %d, want the stored ones", st.ETag, st.LastModified, st.FeedTitle, st.Capped)
			}
		}},
		{"a move is remembered", moved, nil, "not_modified", 0, func(t *testing.T, st newsdesk.FetchState) {
			if st.MovedTo != "https://c.example/rss" {
				t.Errorf("MovedTo = %q, want the new place", st.MovedTo)
			}
		}},
		{"a failure counts and backs off", nil, &StatusError{Code: 500}, "http_5xx", 0, func(t *testing.T, st newsdesk.FetchState) {
			if st.Failures != 3 || st.Error == "" || st.ETag != `"v1"` || !st.RetryAfter.IsZero() {
				t.Errorf("after failure: %+v, want 3 failures, the error, the validators kept", st)
			}
			if st.NextDue.Sub(p0) < 70*time.Minute {
				t.Errorf("NextDue = now+%v, want 2^3 intervals (less jitter)", st.NextDue.Sub(p0))
			}
		}},
		{"410 is gone", nil, &StatusError{Code: 410}, "http_410", 0, func(t *testing.T, st newsdesk.FetchState) {
			if !st.Gone {
				t.Errorf("Gone = false after a 410")
			}
		}},
		{"429 without Retry-After waits an hour", nil, &StatusError{Code: 429}, "http_429", 0, func(t *testing.T, st newsdesk.FetchState) {
			if !st.RetryAfter.Equal(p0.Add(time.Hour)) || st.NextDue.Before(st.RetryAfter) {
				t.Errorf("RetryAfter = %v, NextDue = %v; want an hour from now, not before", st.RetryAfter, st.NextDue)
			}
		}},
		{"a timeout", nil, errors.New("timeout"), ErrorKind(errors.New("timeout")), 0, func(t *testing.T, st newsdesk.FetchState) {
			if st.Result != newsdesk.ResultError || st.Error != "timeout" {
				t.Errorf("Result, Error = %q, %q", st.Result, st.Error)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := started("a", prev, p0)
			st, got, kind := applyResult(src, before, false, tt.resp, tt.err)
			if kind != tt.wantKind || len(got) != tt.wantItems {
				t.Errorf("applyResult() kind %q, %d items; want %q, %d", kind, len(got), tt.wantKind, tt.wantItems)
			}
			if !st.LastFetch.Equal(p0) || st.NextDue.Before(p0.Add(newsdesk.MinInterval)) {
				t.Errorf("LastFetch %v, NextDue %v; want now and at least a minute later", st.LastFetch, st.NextDue)
			}
			last := st.History[len(st.History)-1]
			wantHist := ""
			if tt.err != nil {
				wantHist = tt.wantKind
			}
			if len(st.History) != 2 || !last.At.Equal(p0) || last.Result != st.Result || last.Kind != wantHist {
				t.Errorf("History = %+v, want the attempt appended with kind %q", st.History, wantHist)
			}
			if len(before.History) != 1 || len(prev.History) != 1 {
				t.Errorf("applyResult changed its input's history")
			}
			tt.check(t, st)
		})
	}
}

// TestForURL: a new URL in feeds.yaml starts from a fresh state.
func TestForURL(t *testing.T) {
	prev := newsdesk.FetchState{SourceID: "a", URL: "https://old.example/rss", ETag: `"x"`, Gone: true, FeedTitle: "T", LastSuccess: p0}
	if got := forURL(newsdesk.Source{ID: "a", URL: prev.URL}, prev); got.ETag != `"x"` || !got.Gone {
		t.Errorf("same URL: %+v, want the stored state", got)
	}
	got := forURL(newsdesk.Source{ID: "a", URL: "https://new.example/rss"}, prev)
	if got.ETag != "" || got.Gone || got.URL != "https://new.example/rss" || got.FeedTitle != "T" || !got.LastSuccess.Equal(p0) {
		t.Errorf("new URL: %+v, want validators and gone dropped, title and last success kept", got)
	}
}
