package storetest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// benchItem is an item of a typical size: a headline, a link, a two-line
// summary and a category.
func benchItem(src string, n int, published time.Time) newsdesk.Item {
	return newsdesk.Item{
		SourceID:   src,
		ID:         fmt.Sprintf("https://%s.example/2026/11/26/story-%08d", src, n),
		Title:      fmt.Sprintf("Story number %d from %s about the news of the day", n, src),
		Link:       fmt.Sprintf("https://%s.example/2026/11/26/story-%08d", src, n),
		Summary:    "<p>The summary of the story, as the feed gives it: two sentences. The second one is longer than the first one.</p>",
		Categories: []string{"News"},
		Published:  published,
	}
}

// fill stores perSource items for each of sources sources, interleaved in
// time, in transactions of 5,000 items.
func fill(b *testing.B, db store.Store, sources, perSource int) {
	b.Helper()
	const batch = 5000
	for s := range sources {
		src := fmt.Sprintf("src%02d", s)
		for start := 0; start < perSource; start += batch {
			items := make([]newsdesk.Item, 0, batch)
			for n := start; n < min(start+batch, perSource); n++ {
				items = append(items, benchItem(src, n, T0.Add(time.Duration(n*sources+s)*time.Second)))
			}
			if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: T0}, items, NoLimit); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchSection measures the newest-50 query of a 3-source section (with
// a rule that keeps half the items) as the store grows from 10,000 to
// 1,000,000 items in 10 sources. It should not grow with the store.
func BenchSection(b *testing.B, open Open) {
	for _, total := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("stored=%d", total), func(b *testing.B) {
			db := open(b)
			fill(b, db, 10, total/10)
			q := newsdesk.Query{
				Sources: []string{"src01", "src04", "src07"},
				Keep:    func(it *newsdesk.Item) bool { return len(it.ID)%2 == 0 || it.ID[len(it.ID)-1]%2 == 0 },
				Limit:   50,
			}
			for b.Loop() {
				items, err := db.Section(q)
				if err != nil || len(items) != 50 {
					b.Fatalf("Section: %d items, %v", len(items), err)
				}
			}
			if fi, err := os.Stat(db.Path()); err == nil { // a file engine's size
				b.ReportMetric(float64(fi.Size())/float64(total)*100_000/(1<<20), "MiB/100k-items")
			}
		})
	}
}

// BenchIngest measures storing one fetch of 50 new items (one
// transaction) into a store that already holds 100,000 items.
func BenchIngest(b *testing.B, open Open) {
	db := open(b)
	fill(b, db, 10, 10_000)
	n := 1_000_000
	keep := newsdesk.Retention{MaxItems: 1_000_000}
	for b.Loop() {
		items := make([]newsdesk.Item, 50)
		for i := range items {
			items[i] = benchItem("src00", n, T0.Add(time.Duration(n)*time.Second))
			n++
		}
		st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "src00", LastFetch: T0}, items, keep)
		if err != nil || st.New != 50 {
			b.Fatalf("SaveFetch: %d new, %v", st.New, err)
		}
	}
	b.ReportMetric(float64(b.N*50)/b.Elapsed().Seconds(), "items/s")
}

// BenchIngestBigFeed measures storing one first fetch of a big feed of
// minimal items (the hostile case), with the default retention (which
// drops all but 500 of them) and with none (which writes all of them). The
// time per item should stay flat from 10,000 to 100,000 items.
func BenchIngestBigFeed(b *testing.B, open Open) {
	for _, keep := range []struct {
		name string
		r    newsdesk.Retention
	}{{"default-retention", newsdesk.DefaultRetention}, {"no-retention", newsdesk.Retention{}}} {
		for _, n := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/items=%d", keep.name, n), func(b *testing.B) {
				items := make([]newsdesk.Item, n)
				for i := range items {
					items[i] = newsdesk.Item{ID: fmt.Sprint(i), Published: T0.Add(-time.Duration(i) * time.Second)}
				}
				for b.Loop() {
					b.StopTimer()
					db := open(b)
					b.StartTimer()
					st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "big", LastFetch: T0}, items, keep.r)
					if err != nil || st.New != n {
						b.Fatalf("SaveFetch: %d new, %v", st.New, err)
					}
					b.StopTimer()
					db.Close()
					b.StartTimer()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
			})
		}
	}
}
