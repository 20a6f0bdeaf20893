package fetcher

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/newsdesk/newsdesk/store/bolt"
)

// BenchmarkPassWithoutFullText is a forced pass over 1,000 sources without
// full text, each on a host of its own answering 304 (an in-memory
// transport, a real bbolt store): what issue 13 must not make slower. One
// op is one pass.
func BenchmarkPassWithoutFullText(b *testing.B) {
	m := &memOrigin{inflight: map[string]int{}, peak: map[string]int{}, count: map[string]int{},
		answer: func(r *http.Request) (int, http.Header, string) {
			h := http.Header{"Etag": {`"v1"`}}
			if r.Header.Get("If-None-Match") == `"v1"` {
				return http.StatusNotModified, h, ""
			}
			return http.StatusOK, h, fmt.Sprintf(feedXML, r.URL.Host)
		}}
	db, err := bolt.Open(filepath.Join(b.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	client := NewClient("newsdesk-test")
	client.HTTP.Transport = m
	sources := manyHosts(1000)
	s := NewScheduler(client, db, sources, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, err := s.RunOnce(ctx, sources, true, nil, nil); err != nil { // stores the items
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.RunOnce(ctx, sources, true, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}
