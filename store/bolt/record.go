package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/s2"
	"github.com/newsdesk/newsdesk"
)

// Stored items, schema 4: a compact binary record instead of schema 3's
// JSON, which spent a third of an item's bytes on field names and on
// escaping the < and > of its HTML. The first byte says which: '{' is
// JSON (schema 3, and what a read-only open of an older file reads as it
// is), recordV1 the form below. The record leaves out what its key and
// bucket already say: the item's id (its key in items/SOURCE_ID), its
// source (the bucket) and its link when it equals its id, as it does for
// most feeds.
//
//	recordV1 FLAGS
//	PUBLISHED: varint(Unix seconds) uvarint(nanoseconds)
//	UPDATED, FIRST_SEEN: varint(Unix seconds - PUBLISHED's) uvarint(nanoseconds)
//	BODY, s2-compressed when FLAGS has flagCompressed:
//	  Title [Link] Summary Content RawDate
//	  uvarint(len Authors) {Name Email URI}
//	  uvarint(len Categories) {string}
//	  uvarint(len Enclosures) {URL Type varint(Length)}
//
// Strings are uvarint(length) then their bytes. The body is compressed
// (s2: fast enough to cost little next to parsing the feed) when that
// saves an eighth of it.
const recordV1 = 1

// The bits of a record's FLAGS byte.
const (
	flagDated      = 1 << 0 // store.Record.Dated
	flagLinkIsID   = 1 << 1 // Link equals ID: not in BODY
	flagCompressed = 1 << 2 // BODY is s2-compressed
	flagsKnown     = flagDated | flagLinkIsID | flagCompressed
)

// Bodies from compressFrom to compressUpTo bytes are compressed when that
// pays. The bound keeps what a damaged record can make the decoder
// allocate small; items that big are rare enough to leave as they are.
const (
	compressFrom = 128
	compressUpTo = 4 << 20
)

// bodyBuffers keeps the buffers bodies are built in before compression.
var bodyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// encodeItem is the record of an item as schema 4 stores it. Like the JSON
// of schema 3, and the other engines, it refuses a time whose year is not
// 0 to 9999, and stores text that is not valid UTF-8 with each bad byte
// replaced by U+FFFD.
func encodeItem(it *storedItem) ([]byte, error) {
	flags := byte(0)
	if it.Dated {
		flags |= flagDated
	}
	if it.Link == it.ID {
		flags |= flagLinkIsID
	}
	head, err := appendTimes([]byte{recordV1, flags}, it.Published, it.Updated, it.FirstSeen)
	if err != nil {
		return nil, err
	}
	buf := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(buf)
	body := appendBody((*buf)[:0], it, flags&flagLinkIsID != 0)
	*buf = body
	if len(body) >= compressFrom && len(body) <= compressUpTo {
		out := make([]byte, len(head)+s2.MaxEncodedLen(len(body)))
		copy(out, head)
		if z := s2.Encode(out[len(head):], body); len(z) < len(body)-len(body)/8 {
			out[1] |= flagCompressed
			return out[:len(head)+len(z)], nil
		}
	}
	return append(append(make([]byte, 0, len(head)+len(body)), head...), body...), nil
}

// appendTimes appends an item's three times: the first whole, the others
// from it.
func appendTimes(b []byte, published, updated, firstSeen time.Time) ([]byte, error) {
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"Published", published}, {"Updated", updated}, {"FirstSeen", firstSeen}} {
		if y := t.t.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("%s: year %d outside of range [0,9999]", t.name, y)
		}
	}
	base := published.Unix()
	b = binary.AppendVarint(b, base)
	b = binary.AppendUvarint(b, uint64(published.Nanosecond()))
	for _, t := range []time.Time{updated, firstSeen} {
		b = binary.AppendVarint(b, t.Unix()-base)
		b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	}
	return b, nil
}

// appendBody appends the strings and lists of an item.
func appendBody(b []byte, it *storedItem, linkIsID bool) []byte {
	b = appendString(b, it.Title)
	if !linkIsID {
		b = appendString(b, it.Link)
	}
	for _, s := range []string{it.Summary, it.Content, it.RawDate} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(it.Authors)))
	for _, p := range it.Authors {
		b = appendString(appendString(appendString(b, p.Name), p.Email), p.URI)
	}
	b = binary.AppendUvarint(b, uint64(len(it.Categories)))
	for _, c := range it.Categories {
		b = appendString(b, c)
	}
	b = binary.AppendUvarint(b, uint64(len(it.Enclosures)))
	for _, e := range it.Enclosures {
		b = binary.AppendVarint(appendString(appendString(b, e.URL), e.Type), e.Length)
	}
	return b
}

// appendString appends s as JSON would keep it: each byte that is not
// part of valid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	if utf8.ValidString(s) {
		return append(binary.AppendUvarint(b, uint64(len(s))), s...)
	}
	var v strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			v.WriteString("\uFFFD")
		} else {
			v.WriteString(s[i : i+n])
		}
		i += n
	}
	return appendString(b, v.String())
}

// errRecord is what a record that does not decode is.
var errRecord = errors.New("malformed record")

// decodeItem reads the stored item of source src under key id: a schema-4
// record, or the JSON of schema 3.
func decodeItem(src string, id []byte, v []byte) (storedItem, error) {
	var it storedItem
	if len(v) > 0 && v[0] == '{' {
		err := json.Unmarshal(v, &it)
		return it, err
	}
	if len(v) < 2 || v[0] != recordV1 || v[1]&^flagsKnown != 0 {
		return it, fmt.Errorf("%w: unknown encoding", errRecord)
	}
	flags := v[1]
	d := decoder{b: v[2:]}
	times := d.times()
	body := d.b
	if flags&flagCompressed != 0 {
		n, err := s2.DecodedLen(body)
		if err == nil && n > compressUpTo {
			err = fmt.Errorf("%d bytes compressed: more than it compresses", n)
		}
		if err == nil {
			body, err = s2.Decode(nil, body)
		}
		if err != nil {
			return it, fmt.Errorf("%w: %v", errRecord, err)
		}
	}
	d = decoder{s: string(body), err: d.err}
	it.SourceID, it.ID = src, string(id)
	it.Dated = flags&flagDated != 0
	it.Published, it.Updated, it.FirstSeen = times[0], times[1], times[2]
	d.body(&it.Item, flags&flagLinkIsID != 0)
	if d.err == nil && len(d.s) > 0 {
		d.err = fmt.Errorf("%w: %d bytes left over", errRecord, len(d.s))
	}
	return it, d.err
}

// decoder reads a record: its times from b, then its body from s, whose
// strings are slices of the one string the body was copied to.
type decoder struct {
	b   []byte
	s   string
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s cut short", errRecord, what)
	}
}

// times reads PUBLISHED, UPDATED and FIRST_SEEN.
func (d *decoder) times() [3]time.Time {
	var out [3]time.Time
	var base int64
	for i := range out {
		sec, n := binary.Varint(d.b)
		if n <= 0 {
			d.fail("time")
			return out
		}
		nsec, m := binary.Uvarint(d.b[n:])
		if m <= 0 || nsec >= 1e9 {
			d.fail("time")
			return out
		}
		d.b = d.b[n+m:]
		if i == 0 {
			base = sec
		} else {
			sec += base
		}
		out[i] = time.Unix(sec, int64(nsec)).UTC()
	}
	return out
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.s = d.s[i+1:]
			return x
		}
	}
	d.fail("number")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.fail("text")
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

// count reads a list's length, no more than the bytes left could hold.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.fail("list")
		return 0
	}
	return int(n)
}

// body reads BODY into it, whose ID is known.
func (d *decoder) body(it *newsdesk.Item, linkIsID bool) {
	it.Title = d.string()
	it.Link = it.ID
	if !linkIsID {
		it.Link = d.string()
	}
	it.Summary, it.Content, it.RawDate = d.string(), d.string(), d.string()
	if n := d.count(); n > 0 {
		it.Authors = make([]newsdesk.Person, n)
		for i := range it.Authors {
			it.Authors[i] = newsdesk.Person{Name: d.string(), Email: d.string(), URI: d.string()}
		}
	}
	if n := d.count(); n > 0 {
		it.Categories = make([]string, n)
		for i := range it.Categories {
			it.Categories[i] = d.string()
		}
	}
	if n := d.count(); n > 0 {
		it.Enclosures = make([]newsdesk.Enclosure, n)
		for i := range it.Enclosures {
			it.Enclosures[i] = newsdesk.Enclosure{URL: d.string(), Type: d.string(), Length: d.varint()}
		}
	}
}
