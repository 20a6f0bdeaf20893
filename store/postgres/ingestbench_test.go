package postgres_test

import (
	"path/filepath"
	"testing"

	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/store/storetest"
)

// BenchmarkIngestSources compares the engines on one machine in one run:
// a first pass over 1,000 sources of 50 items, 8 workers storing at once
// (storetest.BenchIngestSources), on a bbolt file and on PostgreSQL. The
// issue's target: PostgreSQL within 3x of bbolt.
//
//	go test ./store/postgres -run '^$' -bench IngestSources -benchtime 3x
//
// The throwaway cluster of .ci/postgres.sh runs with fsync off, which
// flatters PostgreSQL against bbolt's synced commits: for the README's
// table, run it against a cluster with fsync on.
func BenchmarkIngestSources(b *testing.B) {
	for _, e := range []struct {
		name string
		open storetest.Open
	}{{"engine=bolt", openBoltFile}, {"engine=postgres", openStore}} {
		b.Run(e.name, func(b *testing.B) { storetest.BenchIngestSources(b, e.open) })
	}
}

// openBoltFile is storetest.Open for a bbolt file, for the comparisons.
func openBoltFile(tb testing.TB) store.Store {
	tb.Helper()
	db, err := bolt.Open(filepath.Join(tb.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkArticlesDue: the article pass's question (ArticlesDue, one
// query) and status's (ArticleStats) for a full-text source of 1,000
// items, 900 with an article (storetest.BenchArticlesDue).
//
//	go test ./store/postgres -run '^$' -bench ArticlesDue -benchtime 200x
func BenchmarkArticlesDue(b *testing.B) { storetest.BenchArticlesDue(b, openStore) }
