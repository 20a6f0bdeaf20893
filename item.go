package newsdesk

import (
	"crypto/sha1"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
)

// Item is one normalized entry of a source feed. Its ID is unique within its
// source; (SourceID, ID) is unique across newsdesk.
type Item struct {
	SourceID   string      `json:",omitempty"`
	ID         string      // guid / Atom id / JSON id, else the resolved link, else a hash of title and date
	Title      string      // plain text, entities decoded
	Link       string      // absolute and canonical (CanonicalLink): no tracking parameters, no fragment
	Summary    string      `json:",omitempty"` // sanitized HTML, URLs absolute
	Content    string      `json:",omitempty"` // sanitized HTML, URLs absolute
	Authors    []Person    `json:",omitempty"`
	Categories []string    `json:",omitempty"`
	Published  time.Time   // UTC; the first-seen time when the feed gave none
	Updated    time.Time   // UTC; equal to Published when the feed gave none
	Enclosures []Enclosure `json:",omitempty"`
	FirstSeen  time.Time   // UTC; when newsdesk first stored the item
	// RawDate is the date as the feed wrote it, kept when newsdesk could not
	// believe it (unparseable, before 1990, in the future) and dated the
	// item by when it first saw it instead.
	RawDate string `json:",omitempty"`

	// Duplicates are the same story from other sources, collapsed into
	// this item in a section (same canonical link, or near-identical title
	// when the section dedupes titles). Filled in by section queries only.
	Duplicates []ItemRef `json:"-"`
	// Article is the sanitized full text of the item's page, when its
	// source has full_text on and the article was extracted (ArticleOK).
	// The store keeps it beside the item, never in the item's record, and
	// fills it in on reads; a re-fetch of the feed never sees it.
	Article string `json:"-"`
}

// ItemRef names an item: its source and its id within the source.
type ItemRef struct {
	SourceID string
	ID       string
}

// Hash is the hex SHA-1 of the item's id: the stable, URL-safe part of its
// URN in published feeds.
func (r ItemRef) Hash() string {
	sum := sha1.Sum([]byte(r.ID))
	return hex.EncodeToString(sum[:])
}

// urnPrefix starts every item's id in published feeds (ItemRef.URN).
const urnPrefix = "urn:newsdesk:"

// URN is the item's id in every format newsdesk publishes:
// urn:newsdesk:SOURCE:HASH. It hashes the item's own id, which may be any
// string, and keeps the source id in view; it never changes while the
// item's source and id don't. The ids an editor pastes into pin and hide
// are read back by ParseItemID.
func (r ItemRef) URN() string { return urnPrefix + url.PathEscape(r.SourceID) + ":" + r.Hash() }

// Short is how the command line shows an item: SOURCE:first 12 of HASH.
func (r ItemRef) Short() string { return r.SourceID + ":" + r.Hash()[:12] }

// ParseItemID reads an item id as newsdesk writes it, URN or Short:
// urn:newsdesk:SOURCE:HASH or SOURCE:HASH, where HASH may be cut short. It
// returns the source id and the hash in lower case; ok is false when s has
// no source part. Whether the hash is hex is the caller's question.
func ParseItemID(s string) (sourceID, hash string, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) >= len(urnPrefix) && strings.EqualFold(s[:len(urnPrefix)], urnPrefix) {
		s = s[len(urnPrefix):]
	}
	src, hash, ok := strings.Cut(s, ":")
	if !ok || src == "" {
		return "", "", false
	}
	if u, err := url.PathUnescape(src); err == nil {
		src = u
	}
	return src, strings.ToLower(hash), true
}

// Ref is the item's ItemRef.
func (it *Item) Ref() ItemRef { return ItemRef{SourceID: it.SourceID, ID: it.ID} }

// Body is the item's full content: its article when it has one, else the
// feed's content. Rendering and section rules use it.
func (it *Item) Body() string {
	if it.Article != "" {
		return it.Article
	}
	return it.Content
}

// Decision is an editor's decision about one item in one section.
type Decision string

// The editorial decisions: a pinned item comes first in the section, before
// and regardless of its rules; a hidden item never appears in it.
const (
	Pin  Decision = "pin"
	Hide Decision = "hide"
)

// Person is an author of an item or of a source feed.
type Person struct {
	Name  string `json:",omitempty"`
	Email string `json:",omitempty"`
	URI   string `json:",omitempty"` // an http(s) home page (Atom's uri); gofeed gives it for a feed's authors only
}

// Enclosure is a media file attached to an item (a podcast episode, an image).
type Enclosure struct {
	URL    string
	Type   string
	Length int64
}
