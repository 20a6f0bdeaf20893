package bolt

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestArticleRecordRoundTrip: every field comes back, zero times stay
// zero, a long article is compressed, and the head alone is enough for
// the status, link and times.
func TestArticleRecordRoundTrip(t *testing.T) {
	long := strings.Repeat("<p>Paragraph of a long story, repeated as articles repeat their words.</p>\n", 200)
	for _, a := range []newsdesk.Article{
		{Status: newsdesk.ArticleOK, Link: "https://e.example/1", URL: "https://e.example/1?amp", HTML: long, Chars: 12345, Attempts: 2,
			FetchedAt: time.Date(2026, 11, 20, 9, 0, 0, 123, time.UTC), Rules: "abc123"},
		{Status: newsdesk.ArticleFailed, Link: "https://e.example/2", Error: "HTTP 404", Kind: "http_404", Attempts: 1,
			NextTry: time.Date(1969, 1, 2, 3, 4, 5, 6, time.UTC), FetchedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)},
		{Status: newsdesk.ArticleRefused},
	} {
		v, err := encodeArticle(&a)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.HTML) > 1000 && (v[1]&flagCompressed == 0 || len(v) > len(a.HTML)/4) {
			t.Errorf("a %d-byte article is stored in %d bytes, flags %b: want it compressed", len(a.HTML), len(v), v[1])
		}
		h, err := decodeArticleHead(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := h.article("src", "id")
		if err != nil {
			t.Fatal(err)
		}
		a.SourceID, a.ItemID = "src", "id"
		if got != a || got.NextTry.IsZero() != a.NextTry.IsZero() {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, a)
		}
		if html, err := h.html(); err != nil || html != a.HTML {
			t.Errorf("html() = %.40q, %v; want %.40q", html, err, a.HTML)
		}
	}
}

// TestArticleRecordDamaged: a cut or garbled record is an error, never a
// panic or a wrong article.
func TestArticleRecordDamaged(t *testing.T) {
	a := newsdesk.Article{Status: newsdesk.ArticleOK, Link: "https://e.example/1", HTML: strings.Repeat("<p>text text text</p>", 100), NextTry: time.Unix(5, 0)}
	v, err := encodeArticle(&a)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(v) - 1 {
		h, err := decodeArticleHead(v[:n])
		if err == nil {
			_, err = h.article("s", "i")
		}
		if !errors.Is(err, errRecord) {
			t.Fatalf("record cut to %d of %d bytes: %v, want errRecord", n, len(v), err)
		}
	}
	bad := bytes.Clone(v)
	bad[1] |= 1 << 7
	if _, err := decodeArticleHead(bad); !errors.Is(err, errRecord) {
		t.Errorf("unknown flag: %v, want errRecord", err)
	}
}

// FuzzDecodeArticle: no input makes the decoder panic.
func FuzzDecodeArticle(f *testing.F) {
	a := newsdesk.Article{Status: newsdesk.ArticleOK, Link: "l", HTML: strings.Repeat("<p>x</p>", 100), FetchedAt: time.Unix(1, 2)}
	v, _ := encodeArticle(&a)
	f.Add(v)
	f.Add([]byte{articleV1, 0, 0})
	f.Fuzz(func(t *testing.T, v []byte) {
		if h, err := decodeArticleHead(v); err == nil {
			h.article("s", "i")
			h.html()
		}
	})
}

// TestItemRecordHasNoArticle: an item's record never holds its Article,
// which the store keeps beside it.
func TestItemRecordHasNoArticle(t *testing.T) {
	it := fullItem()
	with := it
	with.Article = "<p>the full story</p>"
	a, err := encodeItem(&it)
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodeItem(&with)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("an item with an Article encodes differently from the item without")
	}
	got, err := decodeItem(it.SourceID, []byte(it.ID), b)
	if err != nil || got.Article != "" {
		t.Errorf("decoded Article = %q, %v; want none", got.Article, err)
	}
}

// TestReadLink: the link is read from an item record without decoding
// it, compressed or not, and a cut record is an error.
func TestReadLink(t *testing.T) {
	compressible := benchItem()
	compressible.Link = compressible.ID + "?utm_source=feed"
	for _, it := range []storedItem{fullItem(), compressible} {
		v, err := encodeItem(&it)
		if err != nil {
			t.Fatal(err)
		}
		w := &withArticle{src: it.SourceID, id: []byte(it.ID), v: v}
		if got, err := w.readLink(); err != nil || got != it.Link {
			t.Errorf("readLink() = %q, %v; want %q (flags %b)", got, err, it.Link, v[1])
		}
		w.v = v[:12]
		if _, err := w.readLink(); err == nil {
			t.Errorf("readLink(cut record, flags %b) = nil error", v[1])
		}
	}
	if v, _ := encodeItem(&compressible); v[1]&flagCompressed == 0 {
		t.Error("the compressible item was not compressed: the test misses that case")
	}
}
