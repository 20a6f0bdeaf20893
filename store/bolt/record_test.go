package bolt

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// benchItem is an item like the benchmark's: its link is its id, a
// summary, and HTML content (every third item has some).
func benchItem() storedItem {
	t := time.Date(2026, 11, 20, 9, 41, 7, 0, time.UTC)
	p := "<p>Government minister said on tuesday that the new budget would include funding for schools. <a href=\"https://s00042.example/story/123\">Parties officials expect</a> the measure to pass before the summer recess while critics warned.</p>\n"
	return storedItem{Item: newsdesk.Item{
		SourceID:  "s00042",
		ID:        "https://s00042.example/news/2026/s00042-7",
		Link:      "https://s00042.example/news/2026/s00042-7",
		Title:     "Markets reacted calmly and the central bank kept rates unchanged.",
		Summary:   "<p>Analysts noted growth in exports energy prices fell sharply this week while the government said the budget would include funding for roads.</p>",
		Content:   strings.Repeat(p, 5),
		Published: t, Updated: t, FirstSeen: t.Add(3*time.Hour + 123456789),
	}, Dated: true}
}

// fullItem has every field set, its link not its id, and text that does
// not compress.
func fullItem() storedItem {
	return storedItem{Item: newsdesk.Item{
		SourceID: "src", ID: "guid-1", Link: "https://example.com/1",
		Title: "Заголовок", Summary: "<p>s</p>", Content: "<p>c</p>",
		Authors:    []newsdesk.Person{{Name: "Ann", Email: "ann@example.com"}, {URI: "https://bob.example/"}},
		Categories: []string{"a", "", "c"},
		Published:  time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		Updated:    time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		Enclosures: []newsdesk.Enclosure{{URL: "https://example.com/a.mp3", Type: "audio/mpeg", Length: -1}, {URL: "u"}},
		FirstSeen:  time.Date(9999, 12, 31, 0, 0, 0, 1, time.UTC),
		RawDate:    "yesterday",
	}}
}

// TestRecordRoundTrip: a record reads back as the item, and as its JSON
// (schema 3) reads back, field for field.
func TestRecordRoundTrip(t *testing.T) {
	for name, it := range map[string]storedItem{
		"bench":  benchItem(),
		"full":   fullItem(),
		"empty":  {Item: newsdesk.Item{SourceID: "s", ID: "x"}},
		"badutf": {Item: newsdesk.Item{SourceID: "s", ID: "x", Title: "caf\xe9 \xff\xfe ok", Summary: "\xed\xa0\x80"}},
	} {
		t.Run(name, func(t *testing.T) {
			data, err := encodeItem(&it)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeItem(it.SourceID, []byte(it.ID), data)
			if err != nil {
				t.Fatalf("decodeItem(encodeItem()) error = %v", err)
			}
			js, _ := json.Marshal(it)
			var want storedItem
			if err := json.Unmarshal(js, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("record reads back as\n%+v\nwant as its JSON does\n%+v", got, want)
			}
			fromJSON, err := decodeItem(it.SourceID, []byte(it.ID), js)
			if err != nil || !reflect.DeepEqual(fromJSON, want) {
				t.Errorf("decodeItem(JSON) = %+v, %v; want %+v", fromJSON, err, want)
			}
		})
	}
}

// TestRecordSize: the benchmark's item takes under half its JSON, and its
// body is compressed.
func TestRecordSize(t *testing.T) {
	it := benchItem()
	data, err := encodeItem(&it)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(it)
	if 2*len(data) > len(js) || data[1]&flagCompressed == 0 {
		t.Errorf("record is %d bytes (flags %b), JSON %d; want under half, compressed", len(data), data[1], len(js))
	}
}

// TestRecordRefusesWhatJSONRefuses: a year JSON cannot write is an error,
// so every engine skips the same items.
func TestRecordRefusesWhatJSONRefuses(t *testing.T) {
	it := benchItem()
	it.Updated = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := json.Marshal(it); err == nil {
		t.Fatal("JSON takes year 10000 now: this test's premise is gone")
	}
	if _, err := encodeItem(&it); err == nil || !strings.Contains(err.Error(), "Updated: year 10000") {
		t.Errorf("encodeItem(year 10000) error = %v, want one naming Updated's year", err)
	}
}

// TestRecordDamaged: every cut of a record, and a record with unknown
// flags or version, is an error, never a panic or a wrong item.
func TestRecordDamaged(t *testing.T) {
	for name, it := range map[string]storedItem{"bench": benchItem(), "full": fullItem()} {
		data, err := encodeItem(&it)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(data) {
			if _, err := decodeItem("s", []byte(it.ID), data[:n]); err == nil {
				t.Errorf("%s cut to %d of %d bytes decodes", name, n, len(data))
			}
		}
		for _, bad := range [][]byte{{2, 0}, {recordV1, 0x80}, append([]byte{recordV1, data[1] ^ flagCompressed}, data[2:]...)} {
			if _, err := decodeItem("s", []byte(it.ID), bad); err == nil {
				t.Errorf("%s: %x decodes", name, bad[:2])
			}
		}
	}
}

// FuzzDecodeItem: whatever a damaged file holds, decoding returns; what
// decodes, stored again, reads back the same (once stored, as a damaged
// record's text may not be UTF-8).
func FuzzDecodeItem(f *testing.F) {
	for _, it := range []storedItem{benchItem(), fullItem()} {
		data, _ := encodeItem(&it)
		f.Add(data)
	}
	f.Add([]byte(`{"ID":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := decodeItem("s", []byte("id"), data)
		if err != nil {
			return
		}
		var back [2]storedItem
		for i := range back {
			again, err := encodeItem(&it)
			if err != nil {
				return
			}
			if back[i], err = decodeItem("s", []byte("id"), again); err != nil {
				t.Fatalf("a decoded record re-encoded does not decode: %v", err)
			}
			it = back[i]
		}
		if !reflect.DeepEqual(back[0], back[1]) {
			t.Errorf("a record stored again reads back as %+v; want %+v", back[1], back[0])
		}
	})
}

// The cost of storing and reading an item, schema 3's JSON against
// schema 4's record:
//
//	go test ./store/bolt -run '^$' -bench Record -benchmem
func BenchmarkRecordEncode(b *testing.B) {
	it := benchItem()
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(it); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("record", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodeItem(&it); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRecordDecode(b *testing.B) {
	it := benchItem()
	js, _ := json.Marshal(it)
	rec, _ := encodeItem(&it)
	for name, data := range map[string][]byte{"json": js, "record": rec} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := decodeItem(it.SourceID, []byte(it.ID), data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
