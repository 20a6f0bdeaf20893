package bolt_test

import (
	"testing"

	"github.com/newsdesk/newsdesk/store/storetest"
)

// The store benchmarks (store/storetest) on bbolt files:
//
//	go test ./store/bolt -run '^$' -bench 'Section|Ingest|Articles' -benchmem

func BenchmarkSection(b *testing.B)       { storetest.BenchSection(b, openStore) }
func BenchmarkIngest(b *testing.B)        { storetest.BenchIngest(b, openStore) }
func BenchmarkIngestBigFeed(b *testing.B) { storetest.BenchIngestBigFeed(b, openStore) }
func BenchmarkArticlesDue(b *testing.B)   { storetest.BenchArticlesDue(b, openStore) }

// BenchmarkDeliveries: ClaimDeliveries and FinishDelivery, per delivery.
func BenchmarkDeliveries(b *testing.B) { storetest.BenchDeliveries(b, openStore) }
