package fetcher

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	xhtml "golang.org/x/net/html"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/charset"
)

// feedParser is shared by every fetch. In gofeed v1.4.2 one Parser is safe
// for concurrent use: rss.Parser, atom.Parser and json.Parser are empty
// structs, the translators only read their options, and Parse keeps its
// state on the stack. The RSS translator skips its per-item HTML parse that
// looks for an image, which newsdesk does not use. KeepOriginalFeed keeps
// the *rss.Feed, the only place gofeed puts ttl, skipHours and skipDays;
// it lives only as long as the parse.
var feedParser = newParser()

func newParser() *gofeed.Parser {
	p := gofeed.NewParser()
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	p.KeepOriginalFeed = true
	return p
}

// errEmptyBody is returned for a body that is empty or only whitespace.
var errEmptyBody = &fetchError{kind: kindNotAFeed, msg: "empty response body"}

// parse turns a response body into a Response with the feed's title, link
// and normalized items: charset decoding, gofeed, Normalize. It is what
// Fetch does after the HTTP exchange, and what the conformance test runs on
// the corpora. feedURL is the URL the body was served from.
func parse(body []byte, contentType, feedURL string, src newsdesk.Source, now time.Time) (*Response, error) {
	return parseWith(feedParser, body, contentType, feedURL, src, now)
}

// parseWith is parse with a given gofeed.Parser. A panic in gofeed or in
// Normalize fails this feed only, as an error.
func parseWith(p *gofeed.Parser, body []byte, contentType, feedURL string, src newsdesk.Source, now time.Time) (resp *Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, &fetchError{kind: kindParse, msg: fmt.Sprintf("parser panic: %v", r)}
		}
	}()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errEmptyBody
	}
	text, err := charset.ToUTF8(body, contentType)
	if err != nil {
		return nil, &fetchError{kindParse, err.Error(), err}
	}
	if len(bytes.TrimSpace(text)) == 0 {
		return nil, errEmptyBody
	}
	f, err := p.Parse(bytes.NewReader(text))
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		// gofeed looks for the root element in the first 4096 bytes only;
		// a long comment or DOCTYPE before it hides a good feed.
		if root, off := xmlRoot(text); isFeedRoot(root) && off > 0 {
			f, err = p.Parse(bytes.NewReader(text[off:]))
		}
	}
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		return nil, notAFeed(text, contentType, feedURL)
	}
	if err != nil {
		return nil, &fetchError{kindParse, "parse feed: " + err.Error(), err}
	}
	if f == nil {
		return nil, &fetchError{kind: kindParse, msg: "parse feed: no feed"}
	}
	capped := capItems(f, src.MaxItemsPerFetch, now.UTC())
	id, updated, authors := feedIdentity(f, now)
	return &Response{
		Result:      newsdesk.ResultOK,
		FeedTitle:   plainText(f.Title),
		FeedLink:    newsdesk.HTTPURL(absURL(baseURL(feedURL, ""), strings.TrimSpace(f.Link))),
		FeedID:      id,
		FeedUpdated: updated,
		FeedAuthors: authors,
		Items:       Normalize(src, feedURL, f, now),
		Capped:      capped,
		Hints:       feedHints(f),
		WebSub:      bodyLinks(text, baseURL(feedURL, "")),
	}, nil
}

// feedIdentity is what an aggregated entry's atom:source says about the
// feed it came from: the feed's own id (Atom <id>; RSS and JSON Feed have
// none), when it may be republished (newsdesk.IsFeedID); when it says it
// last changed (Atom updated, RSS lastBuildDate, else pubDate), if that is
// believable; and its authors, with an Atom author's uri when it is an
// http(s) URL. gofeed keeps an Atom feed's id and its authors' uris only in
// the original feed.
func feedIdentity(f *gofeed.Feed, now time.Time) (id string, updated time.Time, authors []newsdesk.Person) {
	var uris map[string]string // author name -> uri, Atom only
	if af, ok := f.OriginalFeed().(*atom.Feed); ok && af != nil {
		if s := strings.TrimSpace(stripControls(af.ID)); newsdesk.IsFeedID(s) {
			id = s
		}
		for _, p := range af.Authors {
			if p != nil && p.URI != "" {
				if uris == nil {
					uris = map[string]string{}
				}
				uris[collapseSpace(stripControls(p.Name))] = newsdesk.HTTPURL(stripControls(p.URI))
			}
		}
	}
	updated = sensibleTime(f.UpdatedParsed, now.UTC())
	if updated.IsZero() {
		updated = sensibleTime(f.PublishedParsed, now.UTC())
	}
	return id, updated, persons(f.Authors, uris)
}

// persons are gofeed's persons cleaned, with the uri of each name in uris;
// a person without name and email is left out.
func persons(ps []*gofeed.Person, uris map[string]string) []newsdesk.Person {
	var out []newsdesk.Person
	for _, p := range ps {
		if p == nil {
			continue
		}
		name := collapseSpace(stripControls(p.Name))
		email := collapseSpace(stripControls(p.Email))
		if name != "" || email != "" {
			out = append(out, newsdesk.Person{Name: name, Email: email, URI: uris[name]})
		}
	}
	return out
}

// capItems keeps at most limit of a parsed feed's items (none dropped when
// limit is 0) and returns how many it dropped. It runs before Normalize, so
// a hostile feed's 300,000 items are not each sanitized only to be thrown
// away. The newest stay, by the date the store would give them: the
// feed's, or for an undated item the fetch time, as it is new to the store;
// among equal dates, the first in the document. The kept items keep their
// document order.
func capItems(f *gofeed.Feed, limit int, now time.Time) int {
	if limit <= 0 || len(f.Items) <= limit {
		return 0
	}
	order := make([]int, len(f.Items))
	dates := make([]time.Time, len(f.Items))
	for i, gi := range f.Items {
		order[i] = i
		if gi == nil {
			continue // zero: the oldest, dropped first
		}
		if dates[i] = itemDate(gi, now); dates[i].IsZero() {
			dates[i] = now
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return dates[b].Compare(dates[a]) })
	kept := order[:limit]
	slices.Sort(kept)
	items := make([]*gofeed.Item, len(kept))
	for i, k := range kept {
		items[i] = f.Items[k]
	}
	dropped := len(f.Items) - limit
	f.Items = items
	return dropped
}

// itemDate is the date Normalize gives an item: its published date, else
// its updated date, when believable; zero when it has neither.
func itemDate(gi *gofeed.Item, now time.Time) time.Time {
	if t := sensibleTime(gi.PublishedParsed, now); !t.IsZero() {
		return t
	}
	return sensibleTime(gi.UpdatedParsed, now)
}

// Normalize turns a parsed gofeed feed into items of src. feedURL is the URL
// it was fetched from (for resolving relative links). now is the fetch time.
//
// Item IDs are the trimmed guid / Atom id / JSON id, else the canonical
// link, else "sha1:" and the hash of title and raw date, so that they are
// stable across fetches; when two items share an ID the first wins. Links
// are absolute and canonical (newsdesk.CanonicalLink). Summary and content
// are sanitized HTML with absolute URLs (cleanHTML). Published is left zero
// when the feed gives no usable date: the store fills in the first-seen
// time, and the date string the feed gave, if any, is kept in RawDate.
func Normalize(src newsdesk.Source, feedURL string, f *gofeed.Feed, now time.Time) []newsdesk.Item {
	if f == nil || len(f.Items) == 0 {
		return nil
	}
	base := baseURL(feedURL, f.Link)
	now = now.UTC()
	seen := make(map[string]bool, len(f.Items))
	items := make([]newsdesk.Item, 0, len(f.Items))
	for _, gi := range f.Items {
		if gi == nil {
			continue
		}
		it := normalizeItem(src.ID, base, gi, now)
		if seen[it.ID] {
			continue
		}
		seen[it.ID] = true
		items = append(items, it)
	}
	return items
}

func normalizeItem(sourceID string, base *url.URL, gi *gofeed.Item, now time.Time) newsdesk.Item {
	// A title is a headline: one longer than newsdesk.MaxTitle bytes is
	// cut, so that a feed cannot send a book as a title (which also would
	// not fit the store's title index).
	it := newsdesk.Item{
		SourceID: sourceID,
		Title:    newsdesk.CapTitle(plainText(gi.Title)),
	}

	// A tab or line break inside a guid is as meaningless as around it, and
	// would not survive being written into an XML attribute.
	guid := strings.TrimSpace(strings.Map(blankControl, stripControls(gi.GUID)))
	link := strings.TrimSpace(gi.Link)
	if link == "" && len(gi.Links) > 0 {
		link = strings.TrimSpace(gi.Links[0])
	}
	if link == "" && newsdesk.IsHTTPURL(guid) {
		// An RSS guid is a permalink unless isPermaLink="false", which
		// gofeed does not report; an absolute http(s) guid is a fair guess.
		link = guid
	}
	// Only an http(s) link is kept: a javascript: or data: link would run
	// or smuggle a document in the reader that follows it.
	resolved := absURL(base, link)
	link = newsdesk.HTTPURL(resolved)
	it.Link = newsdesk.CanonicalLink(link)

	// Relative URLs in the HTML are relative to the article page when there
	// is one; gofeed has already resolved those under an Atom xml:base.
	htmlBase := base
	if link != "" {
		htmlBase, _ = url.Parse(link)
	}
	it.Summary = cleanHTML(gi.Description, htmlBase)
	it.Content = cleanHTML(gi.Content, htmlBase)

	published := sensibleTime(gi.PublishedParsed, now)
	updated := sensibleTime(gi.UpdatedParsed, now)
	it.RawDate = unbelievedDate(gi.Published, published)
	if it.RawDate == "" {
		it.RawDate = unbelievedDate(gi.Updated, updated)
	}
	if published.IsZero() {
		published = updated
	}
	if updated.IsZero() {
		updated = published
	}
	it.Published, it.Updated = published, updated

	switch {
	case guid != "":
		it.ID = guid
	case it.Link != "":
		it.ID = it.Link
	case resolved != "" && !scriptURL(resolved):
		// A link that is not http(s) is not republished, but it was the
		// id of an item without a guid before that rule (a mailto: or
		// ftp: link): it stays its id, so the item does not come back as
		// new.
		it.ID = newsdesk.CanonicalLink(resolved)
	default:
		// The text as the feed gave it, not as sanitized: the ID must not
		// change when the sanitizer does.
		it.ID = hashID(it.Title, rawDate(gi),
			strings.TrimSpace(stripControls(gi.Description)),
			strings.TrimSpace(stripControls(gi.Content)))
	}

	it.Authors = persons(gi.Authors, nil)
	it.Categories = categories(gi.Categories)
	it.Enclosures = enclosures(base, gi.Enclosures)
	return it
}

// categories are an item's categories cleaned, without duplicates.
func categories(cs []string) []string {
	var out []string
	for _, c := range cs {
		c = collapseSpace(stripControls(c))
		if c != "" && !contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// enclosures are an item's enclosures with absolute http(s) URLs, each URL
// once, with a length that is a number or else 0.
func enclosures(base *url.URL, es []*gofeed.Enclosure) []newsdesk.Enclosure {
	var out []newsdesk.Enclosure
	for _, e := range es {
		if e == nil {
			continue
		}
		u := newsdesk.HTTPURL(absURL(base, e.URL))
		if u == "" || containsEnclosure(out, u) {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(e.Length), 10, 64)
		if err != nil || n < 0 {
			n = 0
		}
		out = append(out, newsdesk.Enclosure{
			URL:    u,
			Type:   collapseSpace(stripControls(e.Type)),
			Length: n,
		})
	}
	return out
}

// rawDate is the item's date as the feed wrote it, for hashing: the raw
// string is stable across fetches even when it does not parse.
func rawDate(gi *gofeed.Item) string {
	if s := strings.TrimSpace(gi.Published); s != "" {
		return s
	}
	return strings.TrimSpace(gi.Updated)
}

// hashID is the ID of an item that has neither guid nor link: the hash of
// its title and raw date. An item with neither is hashed by its text, so
// that distinct undated, untitled items do not collapse into one.
func hashID(title, date, summary, content string) string {
	key := title + "\n" + date
	if title == "" && date == "" {
		key = summary + "\n" + content
	}
	sum := sha1.Sum([]byte(key))
	return "sha1:" + hex.EncodeToString(sum[:])
}

// earliestDate is the earliest date believed: earlier ones (year 1 from a
// zero-valued generator, 1900 from a bad template, 1970 from a zero Unix
// time) count as missing. No feed of 1989 is still being fetched.
var earliestDate = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// maxRawDate bounds Item.RawDate: enough for any date format, too little
// for a feed to store a story in.
const maxRawDate = 64

// unbelievedDate returns the date string raw as the feed wrote it when the
// feed gave one but it was not believed (believed is zero: unparseable,
// before 1990, in the future), cleaned and cut to maxRawDate bytes; else "".
func unbelievedDate(raw string, believed time.Time) string {
	if !believed.IsZero() {
		return ""
	}
	raw = collapseSpace(stripControls(raw))
	if raw == "" {
		return ""
	}
	if len(raw) > maxRawDate {
		raw = strings.ToValidUTF8(raw[:maxRawDate], "")
	}
	return raw
}

// sensibleTime returns t in UTC, or zero for a missing, pre-1990 or future
// date. Zero means "undated": the store dates such an item by the time it
// first saw it (the fetch time) and keeps that date on later fetches, where
// clamping to each fetch's own time would make the item look changed every
// time.
func sensibleTime(t *time.Time, now time.Time) time.Time {
	if t == nil || t.IsZero() || t.Before(earliestDate) || t.After(now) {
		return time.Time{}
	}
	return t.UTC()
}

// baseURL is the URL relative links of a feed are resolved against: the
// feed's own home page link, made absolute against the feed URL, when it is
// an absolute http(s) URL; else the feed URL. Relative item links in RSS are
// written relative to the site, which is not always where the feed lives.
func baseURL(feedURL, feedLink string) *url.URL {
	fu, err := url.Parse(strings.TrimSpace(feedURL))
	if err != nil {
		fu = nil
	}
	if feedLink = strings.TrimSpace(feedLink); feedLink != "" {
		var lu *url.URL
		if fu != nil {
			lu, err = fu.Parse(feedLink)
		} else {
			lu, err = url.Parse(feedLink)
		}
		if err == nil && newsdesk.IsHTTPURL(lu.String()) {
			return lu
		}
	}
	return fu
}

// absURL resolves ref against base. Tabs and line breaks are removed from
// anywhere in ref, as browsers do. A reference that cannot be parsed is
// kept as written rather than dropped.
func absURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(strings.Map(dropBreak, stripControls(ref)))
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	if base != nil && !u.IsAbs() {
		u = base.ResolveReference(u)
	}
	return u.String()
}

// scriptURL reports whether u has a scheme that runs code or smuggles a
// document when a reader follows it. Such links were never kept, not even
// as an item's id.
func scriptURL(u string) bool {
	scheme, _, ok := strings.Cut(u, ":")
	if !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(scheme)) {
	case "javascript", "vbscript", "data":
		return true
	}
	return false
}

// dropBreak is a strings.Map function that removes tabs and line breaks.
func dropBreak(r rune) rune {
	if r == '\t' || r == '\n' || r == '\r' {
		return -1
	}
	return r
}

// blankControl is a strings.Map function that turns tabs and line breaks
// into spaces.
func blankControl(r rune) rune {
	if r == '\t' || r == '\n' || r == '\r' {
		return ' '
	}
	return r
}

// plainText makes a title plain text (newsdesk.HTMLText): tags stripped,
// HTML entities decoded once, whitespace collapsed, control characters
// dropped.
func plainText(s string) string {
	s = stripControls(s)
	if isCollapsed(s) && !strings.ContainsAny(s, "<&") {
		return s // no tag, no reference, no space to collapse: nothing to do
	}
	// After decoding too: "&#1;" is a control character.
	return collapseSpace(stripControls(newsdesk.HTMLText(s)))
}

// collapseSpace trims s and collapses every run of white space in it
// (unicode.IsSpace) to one space.
func collapseSpace(s string) string {
	if isCollapsed(s) {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// isCollapsed reports whether collapseSpace has nothing to do with s: no
// white space but single spaces between other characters. Most fields
// are so, and then cost no allocation.
func isCollapsed(s string) bool {
	space := true // a space here would be leading
	for _, r := range s {
		switch {
		case r == ' ':
			if space {
				return false
			}
			space = true
		case r < utf8.RuneSelf && asciiSpace(byte(r)) || r >= utf8.RuneSelf && unicode.IsSpace(r):
			return false
		default:
			space = false
		}
	}
	return !space || s == ""
}

func asciiSpace(c byte) bool {
	return c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsEnclosure(list []newsdesk.Enclosure, u string) bool {
	for _, e := range list {
		if e.URL == u {
			return true
		}
	}
	return false
}

// xmlRoot returns the name of the root element of an XML document and its
// byte offset, or "" when the body is not XML.
func xmlRoot(body []byte) (string, int) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		off := int(d.InputOffset())
		tok, err := d.RawToken()
		if err != nil {
			return "", 0
		}
		if se, ok := tok.(xml.StartElement); ok {
			return strings.ToLower(se.Name.Local), off
		}
	}
}

func isFeedRoot(name string) bool {
	return name == "rss" || name == "rdf" || name == "feed"
}

// feedTypes are the link types of feed autodiscovery.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
}

// notAFeed explains a body gofeed found no feed in. For an HTML page it
// lists the feeds the page links to, resolved, so that the operator can put
// the right URL into feeds.yaml.
func notAFeed(body []byte, contentType, pageURL string) error {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if isHTML(body, mediaType) {
		msg := "not a feed (text/html)"
		if links := feedLinks(body, pageURL); len(links) > 0 {
			msg += "; the page links to feeds: " + strings.Join(links, ", ")
		}
		return &fetchError{kind: kindNotAFeed, msg: msg}
	}
	if root, _ := xmlRoot(body); root != "" {
		return &fetchError{kind: kindNotAFeed, msg: fmt.Sprintf("not a feed (XML document <%s>)", root)}
	}
	if mediaType == "" {
		mediaType, _, _ = mime.ParseMediaType(http.DetectContentType(body))
	}
	return &fetchError{kind: kindNotAFeed, msg: fmt.Sprintf("not a feed (%s)", mediaType)}
}

// isHTML reports whether a body that is not a feed is a web page.
func isHTML(body []byte, mediaType string) bool {
	if mediaType == "text/html" || mediaType == "application/xhtml+xml" {
		return true
	}
	head := bytes.ToLower(body[:min(len(body), 1024)])
	head = bytes.TrimSpace(head)
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.Contains(head, []byte("<html"))
}

// feedLinks returns the absolute URLs of the <link rel="alternate"> feed
// links of an HTML page, in order, without duplicates. A <base href> in the
// page changes what relative links resolve against.
func feedLinks(page []byte, pageURL string) []string {
	base, err := url.Parse(pageURL)
	if err != nil {
		base = nil
	}
	var links []string
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return links
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if !hasAttr || (string(name) != "link" && string(name) != "base") {
			continue
		}
		attrs := map[string]string{}
		for {
			k, v, more := z.TagAttr()
			attrs[string(k)] = string(v)
			if !more {
				break
			}
		}
		if string(name) == "base" {
			if b, err := url.Parse(strings.TrimSpace(attrs["href"])); err == nil && base != nil {
				base = base.ResolveReference(b)
			}
			continue
		}
		mt, _, _ := mime.ParseMediaType(attrs["type"])
		if !hasToken(attrs["rel"], "alternate") || !feedTypes[mt] {
			continue
		}
		if u := absURL(base, attrs["href"]); u != "" && !contains(links, u) {
			links = append(links, u)
		}
	}
}

func hasToken(list, token string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, token) {
			return true
		}
	}
	return false
}
