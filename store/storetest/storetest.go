// Package storetest is the conformance suite of newsdesk's storage
// engines: every engine runs Run against real storage (a bbolt file in
// t.TempDir(), a throwaway PostgreSQL database) and passes it unchanged, so
// that commands, the fetcher and the publisher behave the same on any of
// them. It also holds the store benchmarks, for comparing engines on the
// same machine in the same run (BenchSection, BenchIngest,
// BenchIngestBigFeed, BenchIngestSources).
//
// It tests only what store.Store promises. What one engine does with its
// files or connections (locks, damage, migrations, compaction) is that
// engine's own tests. It must not import an engine.
package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Open returns a new, empty store of the engine under test, closed when
// tb's test ends (tb.Cleanup). Each call gives a store of its own.
type Open func(tb testing.TB) store.Store

// tests are the suite's cases, run in this order under their names.
var tests = []struct {
	name string
	fn   func(t *testing.T, open Open)
}{
	{"SaveFetchNewUnchangedUpdated", testSaveFetchNewUnchangedUpdated},
	{"UndatedItemKeepsFirstSeenDate", testUndatedItemKeepsFirstSeenDate},
	{"StateNotFound", testStateNotFound},
	{"RecentMergesNewestFirst", testRecentMergesNewestFirst},
	{"RecentFollowsChangedDate", testRecentFollowsChangedDate},
	{"TiesHigherIDFirst", testTiesHigherIDFirst},
	{"RetentionPrunes", testRetentionPrunes},
	{"RetentionAppliesToStoredAndIncoming", testRetentionAppliesToStoredAndIncoming},
	{"PrunedItemsNeverReturnAsNew", testPrunedItemsNeverReturnAsNew},
	{"OversizeItemKeepsSiblings", testOversizeItemKeepsSiblings},
	{"SaveFetchIsLinear", testSaveFetchIsLinear},
	{"DuplicatesAcrossSources", testDuplicatesAcrossSources},
	{"DuplicateTitles", testDuplicateTitles},
	{"PinnedFirstHiddenNever", testPinnedFirstHiddenNever},
	{"PinnedStoryIsNotShownTwice", testPinnedStoryIsNotShownTwice},
	{"DecisionOnLongID", testDecisionOnLongID},
	{"SectionVersions", testSectionVersions},
	{"SectionVersionsBehind", testSectionVersionsBehind},
	{"PurgeRemovedSource", testPurgeRemovedSource},
	{"PurgeNeverWithZeroGrace", testPurgeNeverWithZeroGrace},
	{"Copy", testCopy},
	{"CopyFailureLeavesEmpty", testCopyFailureLeavesEmpty},
}

// Run runs the conformance suite against the engine that open opens, each
// case as a subtest of t with a store of its own.
func Run(t *testing.T, open Open) {
	for _, tt := range slices.Concat(tests, articleTests, websubTests) {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// T0 is the suite's fixed clock: the time items are dated and fetched
// around.
var T0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// NoLimit is a retention that keeps everything.
var NoLimit = newsdesk.Retention{}

// Item is an item of source src with a title and link made from its id.
func Item(src, id string, published time.Time) newsdesk.Item {
	return newsdesk.Item{SourceID: src, ID: id, Title: "Title " + id, Link: "https://example.com/" + id, Published: published}
}

// Feed is n items of source src, SRC-000 (dated newest) to SRC-N-1, one an
// hour apart.
func Feed(src string, n int, newest time.Time) []newsdesk.Item {
	items := make([]newsdesk.Item, n)
	for i := range items {
		items[i] = Item(src, fmt.Sprintf("%s-%03d", src, i), newest.Add(-time.Duration(i)*time.Hour))
	}
	return items
}

// IDs is "SOURCE/ID" of each item, for comparing results.
func IDs(items []newsdesk.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.SourceID+"/"+it.ID)
	}
	return out
}

// save stores one fetch of items for src at time at, failing the test on
// an error.
func save(t *testing.T, db store.Store, src string, at time.Time, keep newsdesk.Retention, items ...newsdesk.Item) newsdesk.FetchState {
	t.Helper()
	st, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: at}, items, keep)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// section runs a section query, failing the test on an error, and returns
// the items as IDs does.
func section(t *testing.T, db store.Store, q newsdesk.Query) string {
	t.Helper()
	got, err := db.Section(q)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(IDs(got))
}
