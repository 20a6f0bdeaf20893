package bolt

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/newsdesk/newsdesk"
)

// Stored articles, schema 5 (articles.go keeps them beside the items). The
// record leaves out what its key and bucket say (the item id, the source)
// and is split in two, so that the readers that only ask whether an item
// needs its page fetched, or shows its article (ArticlesDue, ArticleStats,
// every item read of a source with articles), never decode the HTML:
//
//	articleV1 FLAGS uvarint(len HEAD) HEAD TAIL
//	HEAD: Status Link uvarint(Attempts) NEXT_TRY FETCHED_AT
//	TAIL, s2-compressed when FLAGS has flagCompressed:
//	  URL HTML uvarint(Chars) Error Kind Rules
//
// Strings are as in item records (record.go); a time is varint(Unix
// seconds) uvarint(nanoseconds), left out when it is zero (the
// flagNoNextTry and flagNoFetched bits say so). TAIL is compressed when
// that saves an eighth of it.
const articleV1 = 1

// The bits of an article record's FLAGS byte (flagCompressed as items').
const (
	flagNoNextTry      = 1 << 3
	flagNoFetched      = 1 << 4
	articleFlagsKnown  = flagCompressed | flagNoNextTry | flagNoFetched
	articleCompressMin = 256
)

// articleHead is the part of an article record readers decide by; tail
// holds the rest, still encoded.
type articleHead struct {
	Status    newsdesk.ArticleStatus
	Link      string
	Attempts  int
	NextTry   time.Time
	FetchedAt time.Time
	flags     byte
	tail      []byte
}

// encodeArticle is the record of a; its SourceID and ItemID are the
// bucket's and the key's.
func encodeArticle(a *newsdesk.Article) ([]byte, error) {
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"NextTry", a.NextTry}, {"FetchedAt", a.FetchedAt}} {
		if y := t.t.Year(); !t.t.IsZero() && (y < 0 || y > 9999) {
			return nil, fmt.Errorf("article %s: year %d outside of range [0,9999]", t.name, y)
		}
	}
	flags := byte(0)
	head := appendString(appendString(nil, string(a.Status)), a.Link)
	head = binary.AppendUvarint(head, uint64(max(a.Attempts, 0)))
	for _, t := range []struct {
		t    time.Time
		none byte
	}{{a.NextTry, flagNoNextTry}, {a.FetchedAt, flagNoFetched}} {
		if t.t.IsZero() {
			flags |= t.none
			continue
		}
		head = binary.AppendVarint(head, t.t.Unix())
		head = binary.AppendUvarint(head, uint64(t.t.Nanosecond()))
	}
	tail := appendString(appendString(nil, a.URL), a.HTML)
	tail = binary.AppendUvarint(tail, uint64(max(a.Chars, 0)))
	for _, s := range []string{a.Error, a.Kind, a.Rules} {
		tail = appendString(tail, s)
	}
	if len(tail) >= articleCompressMin && len(tail) <= compressUpTo {
		if z := s2.Encode(nil, tail); len(z) < len(tail)-len(tail)/8 {
			flags |= flagCompressed
			tail = z
		}
	}
	out := binary.AppendUvarint([]byte{articleV1, flags}, uint64(len(head)))
	return append(append(out, head...), tail...), nil
}

// decodeArticleHead reads an article record's HEAD, leaving TAIL encoded.
func decodeArticleHead(v []byte) (articleHead, error) {
	var h articleHead
	if len(v) < 3 || v[0] != articleV1 || v[1]&^articleFlagsKnown != 0 {
		return h, fmt.Errorf("%w: unknown article encoding", errRecord)
	}
	h.flags = v[1]
	n, m := binary.Uvarint(v[2:])
	if m <= 0 || n > uint64(len(v)-2-m) {
		return h, fmt.Errorf("%w: article head cut short", errRecord)
	}
	rest := v[2+m:]
	h.tail = rest[n:]
	d := decoder{s: string(rest[:n])}
	h.Status = newsdesk.ArticleStatus(d.string())
	h.Link = d.string()
	h.Attempts = int(d.uvarint())
	for _, t := range []struct {
		t    *time.Time
		none byte
	}{{&h.NextTry, flagNoNextTry}, {&h.FetchedAt, flagNoFetched}} {
		if h.flags&t.none == 0 {
			sec := d.varint()
			nsec := d.uvarint()
			if nsec >= 1e9 {
				d.fail("time")
			}
			*t.t = time.Unix(sec, int64(nsec)).UTC()
		}
	}
	if d.err == nil && len(d.s) > 0 {
		d.err = fmt.Errorf("%w: %d bytes left over in an article head", errRecord, len(d.s))
	}
	return h, d.err
}

// article decodes the whole record whose head is h.
func (h *articleHead) article(src, id string) (newsdesk.Article, error) {
	a := newsdesk.Article{SourceID: src, ItemID: id, Status: h.Status, Link: h.Link, Attempts: h.Attempts, NextTry: h.NextTry, FetchedAt: h.FetchedAt}
	tail, err := h.decodedTail()
	if err != nil {
		return a, err
	}
	d := decoder{s: string(tail)}
	a.URL, a.HTML = d.string(), d.string()
	a.Chars = int(d.uvarint())
	a.Error, a.Kind, a.Rules = d.string(), d.string(), d.string()
	if d.err == nil && len(d.s) > 0 {
		d.err = fmt.Errorf("%w: %d bytes left over in an article", errRecord, len(d.s))
	}
	return a, d.err
}

// html is the article's HTML alone.
func (h *articleHead) html() (string, error) {
	tail, err := h.decodedTail()
	if err != nil {
		return "", err
	}
	d := decoder{s: string(tail)}
	d.string() // URL
	html := d.string()
	return html, d.err
}

func (h *articleHead) decodedTail() ([]byte, error) {
	if h.flags&flagCompressed == 0 {
		return h.tail, nil
	}
	return decompress(h.tail, compressUpTo)
}

// decompress decodes s2 data of at most limit bytes decoded.
func decompress(z []byte, limit int) ([]byte, error) {
	n, err := s2.DecodedLen(z)
	if err == nil && n > limit {
		err = fmt.Errorf("%d bytes compressed: more than it compresses", n)
	}
	var out []byte
	if err == nil {
		out, err = s2.Decode(nil, z)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errRecord, err)
	}
	return out, nil
}
