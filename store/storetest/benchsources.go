package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// BenchIngestSources measures a first pass over 1,000 sources of 50 items
// each, stored by 8 workers at once as serve's fetch workers store them:
// 1,000 SaveFetch transactions, 50,000 new items, with the default
// retention. Each round starts on an empty store. Run it for two engines
// in one run to compare them (store/postgres's BenchmarkIngestSources
// runs it on bbolt and PostgreSQL side by side).
func BenchIngestSources(b *testing.B, open Open) {
	const sources, perSource, workers = 1000, 50, 8
	feeds := make([][]newsdesk.Item, sources)
	for s := range feeds {
		src := fmt.Sprintf("source-%04d", s)
		for n := range perSource {
			feeds[s] = append(feeds[s], benchItem(src, n, T0.Add(-time.Duration(n*sources+s)*time.Second)))
		}
	}
	for b.Loop() {
		b.StopTimer()
		db := open(b)
		b.StartTimer()
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				for s := int(next.Add(1) - 1); s < sources; s = int(next.Add(1) - 1) {
					st := newsdesk.FetchState{SourceID: feeds[s][0].SourceID, LastFetch: T0, Result: newsdesk.ResultOK}
					got, err := db.SaveFetch(st, feeds[s], newsdesk.DefaultRetention)
					if err == nil && got.New != perSource {
						err = fmt.Errorf("SaveFetch of %s: %d new, want %d", st.SourceID, got.New, perSource)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*sources*perSource)/b.Elapsed().Seconds(), "items/s")
}
