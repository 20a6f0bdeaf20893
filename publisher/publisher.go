// Package publisher renders newsdesk's sections as RSS 2.0, Atom 1.0 and
// JSON Feed 1.1, with an HTML index page and an OPML subscription list, and
// serves them over HTTP from memory or writes them out as static files.
//
// Everything it publishes is a pure function of the store's items, their
// fetch states and the configuration: it must not read the clock, make up
// ids or otherwise put anything into a body that changes while nothing
// changed, because the ETag is a hash of the body and readers poll with it.
// It must not write to the store, fetch anything or sanitize HTML: item HTML
// arrives already cleaned by the fetcher.
package publisher

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk"
)

// Store is what the publisher needs from the database; *store.DB satisfies it.
type Store interface {
	// Section returns the items a section query selects, newest first by
	// Item.Published (ties broken by SourceID then ID, deterministic), with
	// a story carried by several sources once, its Duplicates listed.
	Section(q newsdesk.Query) ([]newsdesk.Item, error)
	// States returns the fetch state of every source that has one.
	States() ([]newsdesk.FetchState, error)
}

// Config is what the publisher needs from feeds.yaml.
type Config struct {
	BaseURL  string // absolute, ends with "/", e.g. "http://localhost:8080/"
	Title    string // site title for the index page and the OPML list
	Sources  []newsdesk.Source
	Sections []newsdesk.Section
}

// The content types of the published files.
const (
	typeHTML = "text/html; charset=utf-8"
	typeOPML = "text/x-opml; charset=utf-8"
	typeRSS  = "application/rss+xml; charset=utf-8"
	typeAtom = "application/atom+xml; charset=utf-8"
	typeJSON = "application/feed+json"
)

// defaultMaxAge is the Cache-Control max-age of the index, the OPML list and
// of a section none of whose sources has an interval.
const defaultMaxAge = 300 * time.Second

// sectionIDPattern is the allow-list for section ids: they become file names
// and URL path segments, so nothing that could climb out of sections/ passes.
var sectionIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// File is one published file.
type File struct {
	Body         []byte // must not be modified
	ContentType  string
	ETag         string        // strong and quoted: a hash of Body
	LastModified time.Time     // the newest item's time; zero when there is none
	MaxAge       time.Duration // for Cache-Control
}

// Site is a rendered snapshot of every published file, keyed by path relative
// to the site root: "index.html", "sections.opml", "sections/ID.rss",
// "sections/ID.atom" and "sections/ID.json". A Site is never modified after
// Render returns it, so it may be shared between goroutines.
type Site struct {
	files map[string]File
}

// Paths returns the paths of every file of the site, sorted.
func (s *Site) Paths() []string {
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// File returns the file at path, relative to the site root.
func (s *Site) File(path string) (File, bool) {
	f, ok := s.files[path]
	return f, ok
}

func (s *Site) add(path, contentType string, body []byte, modified time.Time, maxAge time.Duration) {
	sum := sha256.Sum256(body)
	s.files[path] = File{
		Body:         body,
		ContentType:  contentType,
		ETag:         `"` + hex.EncodeToString(sum[:8]) + `"`,
		LastModified: modified,
		MaxAge:       maxAge,
	}
}

// Render renders every file of the site from the store's current items.
func Render(st Store, cfg Config) (*Site, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	states, err := st.States()
	if err != nil {
		return nil, fmt.Errorf("render: fetch states: %w", err)
	}
	sources := newSources(cfg.Sources, states)
	title := clean(oneLine(cfg.Title))
	if title == "" {
		title = "newsdesk"
	}

	site := &Site{files: make(map[string]File)}
	var views []*sectionView
	seen := make(map[string]bool)
	for i := range cfg.Sections {
		sec := &cfg.Sections[i]
		if !sectionIDPattern.MatchString(sec.ID) {
			return nil, fmt.Errorf("render: section %q: id must match %s to be published", sec.ID, sectionIDPattern)
		}
		if seen[sec.ID] {
			return nil, fmt.Errorf("render: section %q: defined twice", sec.ID)
		}
		seen[sec.ID] = true

		v, err := newSectionView(st, base, title, sec, sources)
		if err != nil {
			return nil, fmt.Errorf("render: section %s: %w", sec.ID, err)
		}
		views = append(views, v)
		for _, f := range []struct {
			ext, contentType string
			render           func(*sectionView) ([]byte, error)
		}{
			{".rss", typeRSS, renderRSS},
			{".atom", typeAtom, renderAtom},
			{".json", typeJSON, renderJSON},
		} {
			body, err := f.render(v)
			if err != nil {
				return nil, fmt.Errorf("render: section %s%s: %w", sec.ID, f.ext, err)
			}
			site.add("sections/"+sec.ID+f.ext, f.contentType, body, v.Updated, v.MaxAge)
		}
	}

	body, err := renderIndex(base, title, views)
	if err != nil {
		return nil, fmt.Errorf("render: index.html: %w", err)
	}
	var newest time.Time
	for _, v := range views {
		if v.Updated.After(newest) {
			newest = v.Updated
		}
	}
	site.add("index.html", typeHTML, body, newest, defaultMaxAge)

	body, err = renderOPML(title, views)
	if err != nil {
		return nil, fmt.Errorf("render: sections.opml: %w", err)
	}
	// The list changes only with the configuration, which has no time.
	site.add("sections.opml", typeOPML, body, time.Time{}, defaultMaxAge)
	return site, nil
}

// parseBaseURL checks that the base URL is absolute and makes it end with a
// slash, so that "sections/x.atom" can be appended to it.
func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("render: base url %q: must be an absolute http(s) URL such as http://localhost:8080/", raw)
	}
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	return raw, nil
}

// source is how items of one source are attributed.
type source struct {
	ID       string
	Title    string // Source.Title, else the feed's own title, else the id
	FeedURL  string // the URL newsdesk polls
	HomeURL  string // the feed's home page, else FeedURL
	Interval time.Duration
}

func newSources(srcs []newsdesk.Source, states []newsdesk.FetchState) map[string]source {
	byID := make(map[string]newsdesk.FetchState, len(states))
	for _, s := range states {
		byID[s.SourceID] = s
	}
	out := make(map[string]source, len(srcs))
	for _, s := range srcs {
		st := byID[s.ID]
		src := source{
			ID:       s.ID,
			Title:    clean(oneLine(s.Title)),
			FeedURL:  clean(strings.TrimSpace(s.URL)),
			HomeURL:  clean(strings.TrimSpace(st.FeedLink)),
			Interval: s.Interval,
		}
		if src.Title == "" {
			src.Title = clean(oneLine(st.FeedTitle))
		}
		if src.Title == "" {
			src.Title = clean(oneLine(s.ID))
		}
		if src.HomeURL == "" {
			src.HomeURL = src.FeedURL
		}
		out[s.ID] = src
	}
	return out
}

// sectionView is a section ready for rendering in any format: every text is
// cleaned, every fallback applied, every id computed.
type sectionView struct {
	ID          string
	Title       string
	Description string
	HomeURL     string // the section on the index page
	FeedURL     string // BaseURL + "sections/" + ID, without the extension
	Items       []itemView
	Updated     time.Time // the newest item's time; zero when there are none
	MaxAge      time.Duration
}

type itemView struct {
	ID         string // urn:newsdesk:SOURCE:SHA1(Item.ID): stable, unique across sources
	Permalink  bool   // the item's own id is its link, an absolute http(s) URL
	Title      string
	Link       string
	Summary    string // HTML
	Content    string // HTML
	Authors    []newsdesk.Person
	Categories []string
	Published  time.Time
	Updated    time.Time
	Enclosures []newsdesk.Enclosure
	Source     source
	NoAuthor   bool               // Authors holds the source's title as a stand-in
	Duplicates []newsdesk.ItemRef // the same story from other sources, collapsed into this item
}

func newSectionView(st Store, base, siteTitle string, sec *newsdesk.Section, sources map[string]source) (*sectionView, error) {
	items, err := st.Section(sec.Query(time.Now()))
	if err != nil {
		return nil, err
	}

	v := &sectionView{
		ID:          sec.ID,
		Title:       clean(oneLine(sec.Title)),
		Description: clean(oneLine(sec.Description)),
		HomeURL:     base + "#" + sec.ID,
		FeedURL:     base + "sections/" + sec.ID,
		MaxAge:      defaultMaxAge,
	}
	if v.Title == "" {
		v.Title = sec.ID
	}
	if v.Description == "" {
		v.Description = v.Title + ", a section of " + siteTitle
	}
	// Readers may cache a section as long as its most eager source waits
	// between polls: nothing can change sooner.
	var shortest time.Duration
	for _, id := range sec.Sources {
		if d := sources[id].Interval; d > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	if shortest > 0 {
		v.MaxAge = shortest
	}
	v.Items = make([]itemView, 0, len(items))
	for i := range items {
		src, ok := sources[items[i].SourceID]
		if !ok {
			src = source{ID: items[i].SourceID, Title: clean(oneLine(items[i].SourceID))}
		}
		iv := newItemView(&items[i], src, base)
		if iv.Updated.After(v.Updated) {
			v.Updated = iv.Updated
		}
		v.Items = append(v.Items, iv)
	}
	return v, nil
}

func newItemView(it *newsdesk.Item, src source, base string) itemView {
	v := itemView{
		ID:         itemURN(it.SourceID, it.ID),
		Title:      clean(oneLine(it.Title)),
		Link:       clean(strings.TrimSpace(it.Link)),
		Summary:    clean(it.Summary),
		Content:    clean(it.Content),
		Source:     src,
		Duplicates: it.Duplicates,
	}
	v.Permalink = v.Link != "" && strings.TrimSpace(it.ID) == v.Link && isHTTPURL(v.Link)
	if v.Title == "" {
		v.Title = snippet(v.Summary, v.Content)
	}
	if v.Link == "" {
		v.Link = src.HomeURL
	}
	if v.Link == "" {
		v.Link = base
	}

	for _, p := range it.Authors {
		p = newsdesk.Person{Name: clean(oneLine(p.Name)), Email: clean(strings.TrimSpace(p.Email))}
		if p.Name == "" {
			p.Name = p.Email
		}
		if p.Name != "" {
			v.Authors = append(v.Authors, p)
		}
	}
	if len(v.Authors) == 0 {
		v.Authors = []newsdesk.Person{{Name: src.Title}}
		v.NoAuthor = true
	}
	for _, c := range it.Categories {
		if c = clean(oneLine(c)); c != "" {
			v.Categories = append(v.Categories, c)
		}
	}
	for _, e := range it.Enclosures {
		e = newsdesk.Enclosure{URL: clean(strings.TrimSpace(e.URL)), Type: clean(strings.TrimSpace(e.Type)), Length: e.Length}
		if e.URL == "" {
			continue
		}
		if !strings.Contains(e.Type, "/") {
			e.Type = "application/octet-stream"
		}
		if e.Length < 0 {
			e.Length = 0
		}
		v.Enclosures = append(v.Enclosures, e)
	}

	// Published is never zero in a stored item, but a zero time would print
	// as year 1 and date every reader's copy; the epoch at least sorts last.
	v.Published = firstNonZero(it.Published, it.FirstSeen, time.Unix(0, 0)).UTC()
	v.Updated = firstNonZero(it.Updated, v.Published).UTC()
	if v.Updated.Before(v.Published) {
		v.Updated = v.Published
	}
	return v
}

// itemURN is the id of an item in every format newsdesk publishes. It hashes
// the item's own id, which may be any string, and keeps the source id in
// view; it never changes while the item's source and id don't.
func itemURN(sourceID, itemID string) string {
	sum := sha1.Sum([]byte(itemID))
	return "urn:newsdesk:" + url.PathEscape(sourceID) + ":" + hex.EncodeToString(sum[:])
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// clean makes s safe for XML 1.0 and JSON: invalid UTF-8 becomes U+FFFD and
// control characters other than tab, newline and carriage return go, as do
// U+FFFE and U+FFFF. encoding/xml would turn them into U+FFFD in text but
// writes CDATA (RSS content:encoded) raw, which makes the feed ill-formed.
func clean(s string) string {
	bad := false
	for _, r := range s {
		if dropRune(r) || r == utf8.RuneError {
			bad = true
			break
		}
	}
	if !bad {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if dropRune(r) {
			return -1
		}
		return r
	}, s)
}

func dropRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0xfffe, r == 0xffff:
		return true
	}
	return false
}

// oneLine collapses runs of white space, newlines included, to one space:
// titles and names are single lines of plain text.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var tagPattern = regexp.MustCompile(`<[^>]*>`)

// htmlToText is the text of an HTML fragment on one line. It is rough (no
// parser; a ">" inside an attribute ends the tag early) but it only feeds
// stand-in titles and JSON Feed's plain-text summary.
func htmlToText(s string) string {
	return clean(oneLine(html.UnescapeString(tagPattern.ReplaceAllString(s, " "))))
}

// snippet is a stand-in title for an item that has none: the start of its
// text, or "Untitled".
func snippet(fragments ...string) string {
	const max = 80
	for _, f := range fragments {
		text := htmlToText(f)
		if text == "" {
			continue
		}
		if utf8.RuneCountInString(text) <= max {
			return text
		}
		runes := []rune(text)[:max]
		if i := strings.LastIndex(string(runes), " "); i > max/2 {
			return string(runes)[:i] + "…"
		}
		return string(runes) + "…"
	}
	return "Untitled"
}

// WriteDir writes every file of the site under dir, creating dir and
// dir/sections. Each file is written to a temporary file beside it and
// renamed into place, so a web server serving dir never sees half a feed.
// Files of sections that no longer exist are left alone.
func (s *Site) WriteDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "sections"), 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	for _, p := range s.Paths() {
		if err := writeFileAtomic(filepath.Join(dir, filepath.FromSlash(p)), s.files[p]); err != nil {
			return fmt.Errorf("write site: %w", err)
		}
	}
	return nil
}

func writeFileAtomic(path string, f File) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(f.Body); err != nil {
		return err
	}
	// CreateTemp makes the file readable by its owner only; a web server
	// running as another user must be able to read it.
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if !f.LastModified.IsZero() {
		// A static web server then sends the same Last-Modified as Server.
		if err = os.Chtimes(tmp.Name(), f.LastModified, f.LastModified); err != nil {
			return err
		}
	}
	return os.Rename(tmp.Name(), path)
}
