// Package publisher renders newsdesk's sections as RSS 2.0, Atom 1.0 and
// JSON Feed 1.1, with an HTML page per section, an HTML index page and an
// OPML subscription list, and serves them over HTTP from memory or writes
// them out as static files. Each file is rendered and gzip-compressed once
// per change; a request is answered from memory.
//
// Everything it publishes is a pure function of the store's items, their
// fetch states, the sections' versions and the configuration: it must not
// put the clock, made-up ids or anything else into a body that changes
// while nothing changed, because the ETag is a hash of the body and readers
// poll with it. (It reads the clock, through Config.Now, to choose items by
// a section's max_age and to date a new section version.) Each render
// records every section's version (newsdesk.SectionVersion) in the store:
// a hash of what the section's files are made of and when that last
// changed, which is their Last-Modified and the feeds' updated date. That
// is the only thing it writes to the store. It must not fetch anything or
// sanitize HTML: item HTML arrives already cleaned by the fetcher; every
// URL it republishes passes newsdesk.HTTPURL again, in case it does not. A
// private section's files must never reach anyone without its token, nor
// the static export.
package publisher

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
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
	// RecordSectionVersions records that each section of hashes (section
	// id -> hash of its content) has that content at time now, and returns
	// their versions: the stored one when its hash is the same, else the
	// next (newsdesk.SectionVersion.Next), stored.
	RecordSectionVersions(hashes map[string]string, now time.Time) (map[string]newsdesk.SectionVersion, error)
}

// Config is what the publisher needs from feeds.yaml.
type Config struct {
	BaseURL  string // absolute, ends with "/", e.g. "http://localhost:8080/"
	Title    string // site title for the index page and the OPML list
	Sources  []newsdesk.Source
	Sections []newsdesk.Section
	// Now is the clock a section's max_age counts back from and a new
	// section version is dated by; nil means time.Now. No body contains
	// it but as a version's time.
	Now func() time.Time
	// StatusPath is the path of the operator's status page relative to
	// the site root ("status"), which a section without items links to
	// beside its sources' errors; empty: no link (a static export has no
	// status page).
	StatusPath string
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

// sectionExts are the extensions of a section's files: its three feeds and
// its HTML page.
var sectionExts = []string{".rss", ".atom", ".json", ".html"}

// File is one published file. Its body is compressed once, when it is
// rendered, and every header value a response needs is computed then too, so
// that serving it is a map lookup and a write.
type File struct {
	Body         []byte // must not be modified
	Gzip         []byte // Body compressed with gzip; must not be modified
	ContentType  string
	ETag         string        // strong and quoted: a hash of Body, "HASH"
	GzipETag     string        // the ETag of the gzip encoding, "HASH-gz"
	LastModified time.Time     // a section file's: its version's ChangedAt; zero for the index and OPML list
	MaxAge       time.Duration // for Cache-Control

	token string // the private section's token; empty: public
	hdr   *fileHeaders
}

// fileHeaders are a file's response header values. The slices are assigned
// to every response's header map as they are and must not be modified.
type fileHeaders struct {
	contentType  []string
	cacheControl []string
	lastModified []string // nil when LastModified is zero
	html         bool     // gets a Content-Security-Policy
	identity     encoding
	gzip         encoding
}

// encoding is one encoding of a file's body.
type encoding struct {
	body   []byte
	etag   []string
	length []string
	gzip   bool
}

// newFile makes the file of a body: its gzip encoding, ETags and header
// values. A private file (token set) is marked private for caches.
func newFile(contentType string, body []byte, modified time.Time, maxAge time.Duration, token string) (*File, error) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	// The gzip header carries no name and no time: the bytes, like the
	// body's, depend on the body only.
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:8])
	f := &File{
		Body:         body,
		Gzip:         gz.Bytes(),
		ContentType:  contentType,
		ETag:         `"` + hash + `"`,
		GzipETag:     `"` + hash + `-gz"`,
		LastModified: modified,
		MaxAge:       maxAge,
		token:        token,
	}
	cache := "public"
	if token != "" {
		// Caches shared between users must not keep what only a token
		// holder may see.
		cache = "private"
	}
	f.hdr = &fileHeaders{
		contentType:  []string{contentType},
		cacheControl: []string{cache + ", max-age=" + strconv.FormatInt(maxAgeSeconds(maxAge), 10)},
		html:         contentType == typeHTML,
		identity:     encoding{body: f.Body, etag: []string{f.ETag}, length: []string{strconv.Itoa(len(f.Body))}},
		gzip:         encoding{body: f.Gzip, etag: []string{f.GzipETag}, length: []string{strconv.Itoa(len(f.Gzip))}, gzip: true},
	}
	if !modified.IsZero() {
		f.hdr.lastModified = []string{modified.UTC().Format(http.TimeFormat)}
	}
	return f, nil
}

// Site is a rendered snapshot of every published file, keyed by path relative
// to the site root: "index.html", "sections.opml", "sections/ID.rss",
// "sections/ID.atom", "sections/ID.json" and the section's page
// "sections/ID.html". A Site is never modified once rendered, so it may be
// shared between goroutines; Server.RebuildSections makes a new one that
// shares the files of the sections it did not render again.
type Site struct {
	cfg   *Config // what the site was rendered from
	base  string
	title string
	files map[string]*File // public and private sections' files
	// views are the sections in config order, without their items: what
	// the index page and the OPML list are made of.
	views []*sectionView
	// lists are the index page and OPML list variants shown to the holder
	// of a private section's token, one per distinct token.
	lists []tokenLists
	// versions are the sections' versions, by section id, as rendered.
	versions map[string]newsdesk.SectionVersion
	// sources is how each configured source is shown in every section
	// that carries it (see Server.Outdated).
	sources map[string]source
}

// tokenLists are the index page and OPML list that include the private
// sections of one token.
type tokenLists struct {
	token       string
	index, opml *File
}

// Paths returns the paths of the site's public files, sorted: what WriteDir
// writes. The files of private sections are served by Server only.
func (s *Site) Paths() []string {
	paths := make([]string, 0, len(s.files))
	for p, f := range s.files {
		if f.token == "" {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// File returns the file at path, relative to the site root. It returns the
// files of private sections too; the index page and OPML list it returns are
// the public ones.
func (s *Site) File(path string) (File, bool) {
	f, ok := s.files[path]
	if !ok {
		return File{}, false
	}
	return *f, true
}

// Version returns the version of the section id as rendered, and whether
// the site has that section.
func (s *Site) Version(id string) (newsdesk.SectionVersion, bool) {
	v, ok := s.versions[id]
	return v, ok
}

// Skipped returns the ids of the private sections, in config order: WriteDir
// does not write them, because a static web server cannot check a token.
func (s *Site) Skipped() []string {
	var ids []string
	for _, v := range s.views {
		if v.Token != "" {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

// Render renders every file of the site from the store's current items,
// and records the sections' versions in the store.
func Render(st Store, cfg Config) (*Site, error) {
	return renderSite(st, &cfg)
}

func renderSite(st Store, cfg *Config) (*Site, error) {
	r, err := newRenderer(st, cfg)
	if err != nil {
		return nil, err
	}
	site := &Site{
		cfg:      cfg,
		base:     r.base,
		title:    r.title,
		files:    make(map[string]*File),
		views:    make([]*sectionView, len(cfg.Sections)),
		versions: make(map[string]newsdesk.SectionVersion, len(cfg.Sections)),
		sources:  r.sources,
	}
	seen := make(map[string]bool)
	all := make([]int, len(cfg.Sections))
	for i := range cfg.Sections {
		sec := &cfg.Sections[i]
		if !newsdesk.ValidID(sec.ID) {
			return nil, fmt.Errorf("render: section %q: id must be %s to be published", sec.ID, newsdesk.IDRule)
		}
		if seen[sec.ID] {
			return nil, fmt.Errorf("render: section %q: defined twice", sec.ID)
		}
		seen[sec.ID] = true
		all[i] = i
	}
	if err := site.renderSections(r, all); err != nil {
		return nil, err
	}
	if err := site.renderLists(); err != nil {
		return nil, err
	}
	return site, nil
}

// rerender returns a copy of the site with the sections ids rendered again
// from the store, and the index page and OPML list, whose counts and dates
// change with them. The other sections' files are shared, not copied.
func (s *Site) rerender(st Store, ids []string) (*Site, error) {
	r, err := newRenderer(st, s.cfg)
	if err != nil {
		return nil, err
	}
	next := &Site{
		cfg:      s.cfg,
		base:     r.base,
		title:    r.title,
		files:    maps.Clone(s.files),
		views:    slices.Clone(s.views),
		versions: maps.Clone(s.versions),
		sources:  maps.Clone(s.sources),
	}
	var idx []int
	rendered := make(map[string]bool, len(ids))
	for _, id := range ids {
		i := slices.IndexFunc(s.cfg.Sections, func(sec newsdesk.Section) bool { return sec.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("render: section %q: %w", id, newsdesk.ErrNotFound)
		}
		if !rendered[id] {
			idx = append(idx, i)
			rendered[id] = true
		}
	}
	if err := next.renderSections(r, idx); err != nil {
		return nil, err
	}
	// A source is shown anew only where it was rendered again: while a
	// section not rendered this time still shows the old, the site keeps
	// the old, so that Outdated asks for the rest.
	for id, src := range r.sources {
		everywhere := true
		for _, sec := range s.cfg.Sections {
			if slices.Contains(sec.Sources, id) && !rendered[sec.ID] {
				everywhere = false
				break
			}
		}
		if everywhere {
			next.sources[id] = src
		}
	}
	if err := next.renderLists(); err != nil {
		return nil, err
	}
	return next, nil
}

// renderer holds what every section's rendering needs.
type renderer struct {
	st      Store
	base    string
	title   string
	sources map[string]source
	now     time.Time
	// statusPath is Config.StatusPath.
	statusPath string
}

func newRenderer(st Store, cfg *Config) (*renderer, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	states, err := st.States()
	if err != nil {
		return nil, fmt.Errorf("render: fetch states: %w", err)
	}
	r := &renderer{st: st, base: base, title: clean(oneLine(cfg.Title)), sources: newSources(cfg.Sources, states), now: time.Now(), statusPath: cfg.StatusPath}
	if cfg.Now != nil {
		r.now = cfg.Now()
	}
	if r.title == "" {
		r.title = "newsdesk"
	}
	return r, nil
}

// renderSections renders the feeds and pages of the sections at the indexes
// idx of the configuration into s.files, their views (without items) into
// s.views and their versions into s.versions. The versions of them all are
// recorded in the store at once, between making the views, which the
// versions hash, and writing the files, which carry their time.
func (s *Site) renderSections(r *renderer, idx []int) error {
	views := make([]*sectionView, len(idx))
	hashes := make(map[string]string, len(idx))
	for k, i := range idx {
		sec := &s.cfg.Sections[i]
		v, err := newSectionView(r, sec)
		if err != nil {
			return fmt.Errorf("render: section %s: %w", sec.ID, err)
		}
		views[k] = v
		hashes[sec.ID] = v.hash(r.title)
	}
	versions, err := r.st.RecordSectionVersions(hashes, r.now)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	for k, i := range idx {
		v := views[k]
		ver, ok := versions[v.ID]
		if !ok || ver.Hash != hashes[v.ID] {
			return fmt.Errorf("render: section %s: the store returned no version for its content", v.ID)
		}
		v.Updated = ver.ChangedAt.UTC()
		s.versions[v.ID] = ver
		if err := s.renderSection(r, i, v); err != nil {
			return err
		}
		views[k] = nil // its items may go
	}
	return nil
}

// renderSection renders the i-th section's feeds and page from its view v
// into s.files, and v without its items into s.views[i].
func (s *Site) renderSection(r *renderer, i int, v *sectionView) error {
	sec := &s.cfg.Sections[i]
	for _, f := range []struct {
		ext, contentType string
		render           func(*sectionView) ([]byte, error)
	}{
		{".rss", typeRSS, renderRSS},
		{".atom", typeAtom, renderAtom},
		{".json", typeJSON, renderJSON},
		{".html", typeHTML, func(v *sectionView) ([]byte, error) { return renderPage(r.title, v) }},
	} {
		body, err := f.render(v)
		if err != nil {
			return fmt.Errorf("render: section %s%s: %w", sec.ID, f.ext, err)
		}
		file, err := newFile(f.contentType, body, v.Updated, v.MaxAge, v.Token)
		if err != nil {
			return fmt.Errorf("render: section %s%s: %w", sec.ID, f.ext, err)
		}
		s.files["sections/"+sec.ID+f.ext] = file
	}
	summary := *v
	summary.Items = nil
	s.views[i] = &summary
	return nil
}

// renderLists renders the index page and the OPML list: the public ones
// into s.files, and for each distinct token of the private sections the
// ones that also list that token's sections into s.lists.
func (s *Site) renderLists() error {
	index, opml, err := s.renderList("")
	if err != nil {
		return err
	}
	s.files["index.html"], s.files["sections.opml"] = index, opml
	s.lists = nil
	for _, v := range s.views {
		if v.Token == "" || slices.ContainsFunc(s.lists, func(l tokenLists) bool { return l.token == v.Token }) {
			continue
		}
		index, opml, err := s.renderList(v.Token)
		if err != nil {
			return err
		}
		s.lists = append(s.lists, tokenLists{token: v.Token, index: index, opml: opml})
	}
	return nil
}

func (s *Site) renderList(token string) (index, opml *File, err error) {
	var views []*sectionView
	for _, v := range s.views {
		if v.Token != "" && v.Token != token {
			continue
		}
		views = append(views, v)
	}
	body, err := renderIndex(s.title, tokenQuery(token), views)
	if err != nil {
		return nil, nil, fmt.Errorf("render: index.html: %w", err)
	}
	// The index has no Last-Modified: it changes with the configuration
	// too (a section added or removed), which no version dates, so only
	// its ETag can tell a reader whether it changed.
	if index, err = newFile(typeHTML, body, time.Time{}, defaultMaxAge, token); err != nil {
		return nil, nil, fmt.Errorf("render: index.html: %w", err)
	}
	body, err = renderOPML(s.title, views)
	if err != nil {
		return nil, nil, fmt.Errorf("render: sections.opml: %w", err)
	}
	// The list changes only with the configuration, which has no time.
	if opml, err = newFile(typeOPML, body, time.Time{}, defaultMaxAge, token); err != nil {
		return nil, nil, fmt.Errorf("render: sections.opml: %w", err)
	}
	return index, opml, nil
}

// tokenQuery is the query string that carries a private section's token.
func tokenQuery(token string) string {
	if token == "" {
		return ""
	}
	return "?token=" + url.QueryEscape(token)
}

// parseBaseURL checks that the base URL is absolute and makes it end with a
// slash, so that "sections/x.atom" can be appended to it.
func parseBaseURL(raw string) (string, error) {
	if err := newsdesk.CheckHTTPURL(raw); err != nil {
		return "", fmt.Errorf("render: base url %q %v: give an absolute http(s) URL such as http://localhost:8080/", raw, err)
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
	FeedID   string // the feed's own id, else FeedURL
	Updated  time.Time
	Authors  []newsdesk.Person // the feed's own authors
	Interval time.Duration
	// Note is what a section without items says about the source: its
	// last error, or that it was not fetched yet; empty when it fetched
	// fine. It is not part of an item's attribution (nor of its hash).
	Note string `json:"-"`
}

// same reports whether a and b are shown alike.
func (a source) same(b source) bool {
	return a.ID == b.ID && a.Title == b.Title && a.FeedURL == b.FeedURL && a.HomeURL == b.HomeURL &&
		a.FeedID == b.FeedID && a.Updated.Equal(b.Updated) && slices.Equal(a.Authors, b.Authors) &&
		a.Interval == b.Interval && a.Note == b.Note
}

func newSources(srcs []newsdesk.Source, states []newsdesk.FetchState) map[string]source {
	byID := make(map[string]newsdesk.FetchState, len(states))
	for _, s := range states {
		byID[s.SourceID] = s
	}
	out := make(map[string]source, len(srcs))
	for _, s := range srcs {
		st, fetched := byID[s.ID]
		out[s.ID] = newSource(s, st, fetched)
	}
	return out
}

// newSource is how the source s is shown while its fetch state is st
// (fetched: it has one).
func newSource(s newsdesk.Source, st newsdesk.FetchState, fetched bool) source {
	src := source{
		ID:       s.ID,
		Title:    clean(oneLine(s.Title)),
		FeedURL:  newsdesk.HTTPURL(clean(s.URL)),
		HomeURL:  newsdesk.HTTPURL(clean(st.FeedLink)),
		FeedID:   clean(strings.TrimSpace(st.FeedID)),
		Updated:  st.FeedUpdated.UTC(),
		Authors:  cleanPersons(st.FeedAuthors),
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
	if !newsdesk.IsFeedID(src.FeedID) {
		src.FeedID = src.FeedURL
	}
	switch {
	case !fetched:
		src.Note = src.ID + ": not fetched yet"
	case st.Result == newsdesk.ResultError:
		src.Note = src.ID + ": " + clean(oneLine(st.Error))
	}
	return src
}

// cleanPersons is ps fit to republish: names on one line, a stand-in name
// from the email address, only http(s) URIs, nameless persons left out.
func cleanPersons(ps []newsdesk.Person) []newsdesk.Person {
	var out []newsdesk.Person
	for _, p := range ps {
		p = newsdesk.Person{Name: clean(oneLine(p.Name)), Email: clean(strings.TrimSpace(p.Email)), URI: newsdesk.HTTPURL(clean(p.URI))}
		if p.Name == "" {
			p.Name = p.Email
		}
		if p.Name != "" {
			out = append(out, p)
		}
	}
	return out
}

// sectionView is a section ready for rendering in any format: every text is
// cleaned, every fallback applied, every id computed.
type sectionView struct {
	ID          string
	Title       string
	Description string
	Token       string // the private section's token; empty: public
	base        string
	Items       []itemView
	Count       int       // len(Items), kept when the view is kept without them
	Updated     time.Time // the version's ChangedAt; zero until the version is known
	MaxAge      time.Duration
	// Notes say why a section has no items: the last error of each of its
	// sources that failed, or that one was not fetched yet.
	Notes []string
	// Status is Config.StatusPath when there are notes to link from.
	Status string
}

// renderFormat names how views are written out. Change it whenever a
// change to the encoders or templates makes an unchanged view render other
// bytes, so that every section gets a new version and Last-Modified.
const renderFormat = "2026-12 atom:source with id, updated, author"

// hash is the hash of the view, the content of every file of the section:
// its items in order, with their text, links, dates and attribution, its
// title, description, notes, cache time and URLs, and the site's title,
// written as JSON and hashed with SHA-256. It does not cover Updated,
// which the version it makes dates, and it does not depend on any format.
func (v *sectionView) hash(siteTitle string) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	err := enc.Encode(struct {
		Format, Release, Base, SiteTitle string
		View                             *sectionView
	}{renderFormat, newsdesk.Version, v.base, siteTitle, v})
	if err != nil {
		// A view is strings, numbers and times: this cannot happen.
		panic("publisher: hash of a section view: " + err.Error())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// StatusNotes is the view's notes for a template, with the URL of the
// status page relative to the page that shows them, whose way up to the
// site root is up ("" or "../"); the URL is empty without a status page.
func (v *sectionView) StatusNotes(up string) struct {
	Notes  []string
	Status string
} {
	href := ""
	if v.Status != "" {
		href = up + v.Status
	}
	return struct {
		Notes  []string
		Status string
	}{v.Notes, href}
}

// URL is the absolute URL of the section's file with the extension ext
// (".rss", ".atom", ".json" or ".html" for its page), with the token of a
// private section: only a token holder ever gets a body that contains it.
func (v *sectionView) URL(ext string) string {
	return v.base + v.Href(ext)
}

// Href is the URL of the section's file relative to the site root.
func (v *sectionView) Href(ext string) string {
	return "sections/" + v.ID + ext + tokenQuery(v.Token)
}

// PageHref is the URL of the section's file relative to its page.
func (v *sectionView) PageHref(ext string) string {
	return v.ID + ext + tokenQuery(v.Token)
}

// HomeURL is the section's HTML page, the feeds' alternate link.
func (v *sectionView) HomeURL() string { return v.URL(".html") }

type itemView struct {
	ID         string // newsdesk.ItemRef.URN: stable, unique across sources
	Permalink  bool   // the item's own id is its link, an absolute http(s) URL
	Title      string
	Link       string
	Summary    string // HTML
	Content    string // HTML
	Snippet    string // plain text, one line: the start of Summary, else Content
	Authors    []newsdesk.Person
	Categories []string
	Published  time.Time
	Updated    time.Time
	Enclosures []newsdesk.Enclosure
	Source     source
	NoAuthor   bool               // Authors holds the source's title as a stand-in
	Duplicates []newsdesk.ItemRef // the same story from other sources, collapsed into this item
}

func newSectionView(r *renderer, sec *newsdesk.Section) (*sectionView, error) {
	items, err := r.st.Section(sec.Query(r.now))
	if err != nil {
		return nil, err
	}

	v := &sectionView{
		ID:          sec.ID,
		Title:       clean(oneLine(sec.Title)),
		Description: clean(oneLine(sec.Description)),
		Token:       sec.Token,
		base:        r.base,
		MaxAge:      defaultMaxAge,
	}
	if v.Title == "" {
		v.Title = sec.ID
	}
	if v.Description == "" {
		v.Description = v.Title + ", a section of " + r.title
	}
	// Readers may cache a section as long as its most eager source waits
	// between polls: nothing can change sooner.
	var shortest time.Duration
	for _, id := range sec.Sources {
		if d := r.sources[id].Interval; d > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	if shortest > 0 {
		v.MaxAge = shortest
	}
	v.Items = make([]itemView, 0, len(items))
	// newest is the newest item of each source: its atom:source updated
	// when the feed does not say when it changed.
	newest := map[string]time.Time{}
	for i := range items {
		src, ok := r.sources[items[i].SourceID]
		if !ok {
			src = source{ID: items[i].SourceID, Title: clean(oneLine(items[i].SourceID))}
		}
		src.Note = ""
		iv := newItemView(&items[i], src, r.base)
		if iv.Updated.After(newest[src.ID]) {
			newest[src.ID] = iv.Updated
		}
		v.Items = append(v.Items, iv)
	}
	for i := range v.Items {
		if src := &v.Items[i].Source; src.Updated.IsZero() {
			src.Updated = newest[src.ID]
		}
	}
	v.Count = len(v.Items)
	if v.Count == 0 {
		for _, id := range sec.Sources {
			if note := r.sources[id].Note; note != "" {
				v.Notes = append(v.Notes, note)
			}
		}
		if len(v.Notes) > 0 {
			v.Status = r.statusPath
		}
	}
	return v, nil
}

func newItemView(it *newsdesk.Item, src source, base string) itemView {
	v := itemView{
		ID:         it.Ref().URN(),
		Title:      clean(oneLine(it.Title)),
		Link:       newsdesk.HTTPURL(clean(it.Link)),
		Summary:    clean(it.Summary),
		Content:    clean(it.Content),
		Source:     src,
		Duplicates: it.Duplicates,
	}
	v.Permalink = v.Link != "" && strings.TrimSpace(it.ID) == v.Link
	if v.Title == "" {
		v.Title = snippet(80, "Untitled", v.Summary, v.Content)
	}
	if v.Snippet = snippet(200, "", v.Summary, v.Content); v.Snippet == v.Title {
		v.Snippet = ""
	}
	if v.Link == "" {
		v.Link = src.HomeURL
	}
	if v.Link == "" {
		v.Link = base
	}

	// An item without an author is by its feed's authors; without those,
	// the source's title stands in.
	if v.Authors = cleanPersons(it.Authors); len(v.Authors) == 0 {
		v.Authors = slices.Clone(src.Authors)
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
		e = newsdesk.Enclosure{URL: newsdesk.HTTPURL(clean(e.URL)), Type: clean(strings.TrimSpace(e.Type)), Length: e.Length}
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

// htmlToText is the text of an HTML fragment on one line
// (newsdesk.HTMLText), fit for XML and JSON: it feeds stand-in titles,
// snippets and JSON Feed's plain-text summary.
func htmlToText(s string) string { return clean(newsdesk.HTMLText(s)) }

// snippet is the start of the text of the first fragment that has any, at
// most max characters (cut at a space when one is near), or else fallback.
func snippet(max int, fallback string, fragments ...string) string {
	for _, f := range fragments {
		text := htmlToText(f)
		if text == "" {
			continue
		}
		if utf8.RuneCountInString(text) <= max {
			return text
		}
		runes := []rune(text)[:max]
		if i := strings.LastIndex(string(runes), " "); i > len(string(runes))/2 {
			return string(runes)[:i] + "…"
		}
		return string(runes) + "…"
	}
	return fallback
}

// WriteDir writes every public file of the site under dir, creating dir and
// dir/sections, each beside its gzip encoding PATH.gz (the bytes Server sends,
// for web servers that serve precompressed files). Each file is written to a
// temporary file beside it and renamed into place, so a web server serving
// dir never sees half a feed. Private sections are not written (see
// Skipped), and their files from an export made while they were public are
// removed. Files of sections that no longer exist are left alone. Exports
// into dir take turns (a lock on dir); each first removes the temporary
// files of one that was killed.
func (s *Site) WriteDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "sections"), 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	defer unlock()
	removeStaleTemps(dir)
	removeStaleTemps(filepath.Join(dir, "sections"))
	for _, p := range s.Paths() {
		f := s.files[p]
		path := filepath.Join(dir, filepath.FromSlash(p))
		if err := writeFileAtomic(path, f.Body, f.LastModified); err != nil {
			return fmt.Errorf("write site: %w", err)
		}
		if err := writeFileAtomic(path+".gz", f.Gzip, f.LastModified); err != nil {
			return fmt.Errorf("write site: %w", err)
		}
	}
	for _, id := range s.Skipped() {
		for _, ext := range sectionExts {
			for _, suffix := range []string{"", ".gz"} {
				err := os.Remove(filepath.Join(dir, "sections", id+ext+suffix))
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("write site: private section %s: %w", id, err)
				}
			}
		}
	}
	return nil
}

func writeFileAtomic(path string, body []byte, modified time.Time) (err error) {
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
	if _, err = tmp.Write(body); err != nil {
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
	if !modified.IsZero() {
		// A static web server then sends the same Last-Modified as Server.
		if err = os.Chtimes(tmp.Name(), modified, modified); err != nil {
			return err
		}
	}
	return os.Rename(tmp.Name(), path)
}
