package publisher

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk"
)

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
	// Attribution ends each item that shows its article with a line
	// linking the original (full_text.attribution). It is not hashed on
	// its own: it shows only in the content of such items, which is.
	Attribution bool `json:"-"`
	// Note is what a section without items says about the source: its
	// last error, or that it was not fetched yet; empty when it fetched
	// fine. It is not part of an item's attribution (nor of its hash).
	Note string `json:"-"`
}

// same reports whether a and b are shown alike.
func (a source) same(b source) bool {
	return a.ID == b.ID && a.Title == b.Title && a.FeedURL == b.FeedURL && a.HomeURL == b.HomeURL &&
		a.FeedID == b.FeedID && a.Updated.Equal(b.Updated) && slices.Equal(a.Authors, b.Authors) &&
		a.Interval == b.Interval && a.Note == b.Note && a.Attribution == b.Attribution
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
		FeedURL:  newsdesk.HTTPURL(clean(newsdesk.RedactURL(s.URL))), // never a password: the export is public
		HomeURL:  newsdesk.HTTPURL(clean(st.FeedLink)),
		FeedID:   clean(strings.TrimSpace(st.FeedID)),
		Updated:  st.FeedUpdated.UTC(),
		Authors:  cleanPersons(st.FeedAuthors),
		Interval: s.Interval,
		// config sets it true unless feeds.yaml says attribution: false.
		Attribution: s.FullText.Attribution,
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
	// Hubs are the WebSub hubs the files advertise (Config.Hubs). They are
	// not hashed: serve advertises its own hub and the export does not,
	// and both must record the same version of the same content.
	Hubs []string `json:"-"`
}

// renderFormat names how views are written out. Change it whenever a
// change to the encoders or templates makes an unchanged view render other
// bytes, so that every section gets a new version and Last-Modified.
const renderFormat = "2026-12 websub: page link rel=self"

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

// linkHeader is the HTTP Link header value of the section's file with the
// extension ext: each hub (rel="hub") and the file's own URL
// (rel="self"), or "" when no hub is advertised.
func (v *sectionView) linkHeader(ext string) string {
	if len(v.Hubs) == 0 {
		return ""
	}
	var b strings.Builder
	for _, hub := range v.Hubs {
		b.WriteString("<" + hub + `>; rel="hub", `)
	}
	b.WriteString("<" + v.URL(ext) + `>; rel="self"`)
	return b.String()
}

// HomeURL is the section's HTML page, the feeds' alternate link.
func (v *sectionView) HomeURL() string { return v.URL(".html") }

type itemView struct {
	ID        string // newsdesk.ItemRef.URN: stable, unique across sources
	Permalink bool   // the item's own id is its link, an absolute http(s) URL
	Title     string
	Link      string
	Summary   string // HTML
	Content   string // HTML: the article (and its attribution) when there is one
	// Full says Content is the item's article, extracted from its page:
	// the section page shows it whole. omitempty keeps the hash of items
	// without one as it was.
	Full       bool   `json:",omitempty"`
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
		Hubs:        r.hubs,
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
			// An article from a source no longer configured is still
			// someone else's story: attributed, as config's default is.
			src = source{ID: items[i].SourceID, Title: clean(oneLine(items[i].SourceID)), Attribution: true}
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
	if it.Article != "" {
		// The article is the content; the feed's own text stays the
		// summary, its content standing in when it gave no summary.
		v.Full = true
		if v.Summary == "" {
			v.Summary = v.Content
		}
		v.Content = clean(it.Article)
	}
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
	if v.Full && src.Attribution {
		v.Content += "\n" + attribution(src.Title, v.Title, v.Link)
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

// attribution is the line that ends an item showing its article: the
// source and the item's title, linked to the original, so a republished
// story names where it comes from in every format and on the section page.
// Both texts are plain text and the link a URL: all three are escaped.
func attribution(sourceTitle, title, link string) string {
	return `<p>Source: <a href="` + html.EscapeString(link) + `">` +
		html.EscapeString(sourceTitle+" — "+title) + `</a></p>`
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
