package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestSameIsStoredAlike: Same says two records are alike exactly when
// their stored JSON is, whether or not they are deeply equal.
func TestSameIsStoredAlike(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	base := Record{Item: newsdesk.Item{
		SourceID: "s", ID: "https://example.com/1", Title: "One", Link: "https://example.com/1",
		Content: "<p>Body</p>", Categories: []string{"news"},
		Authors:   []newsdesk.Person{{Name: "Ann"}},
		Published: at, Updated: at, FirstSeen: at,
	}, Dated: true}
	variants := map[string]func(r *Record){
		"the same":              func(r *Record) {},
		"a copy of its lists":   func(r *Record) { r.Categories = append([]string(nil), r.Categories...) },
		"an empty list for nil": func(r *Record) { r.Enclosures = []newsdesk.Enclosure{} },
		"duplicates":            func(r *Record) { r.Duplicates = []newsdesk.ItemRef{{SourceID: "t", ID: "x"}} },
		"the same time elsewhere": func(r *Record) {
			r.Updated = at.In(time.FixedZone("X", 3600))
		},
		"another title":    func(r *Record) { r.Title = "Two" },
		"another content":  func(r *Record) { r.Content = "<p>Body!</p>" },
		"another category": func(r *Record) { r.Categories = []string{"sport"} },
		"another date":     func(r *Record) { r.Updated = at.Add(time.Second) },
		"undated":          func(r *Record) { r.Dated = false },
	}
	for name, change := range variants {
		b := base
		b.Categories = append([]string(nil), base.Categories...)
		change(&b)
		ja, _ := json.Marshal(base)
		jb, _ := json.Marshal(b)
		if want := string(ja) == string(jb); Same(base, b) != want || Same(b, base) != want {
			t.Errorf("%s: Same = %v, want %v (the stored JSON alike: %v)", name, Same(base, b), want, want)
		}
	}
}
