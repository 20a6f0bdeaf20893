package publisher

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/feeds"

	"github.com/newsdesk/newsdesk"
)

// gorilla/feeds v1.2.0 builds most of an Atom feed but gets these wrong, so
// its structs are wrapped: the feed <id> is always Link.Href and there is no
// rel="self" link; <updated> is empty when the time is zero; an entry
// without an id gets a random urn:uuid on every render; an entry has one
// author at most, one link besides an enclosure, and <category> and <source>
// are plain text where RFC 4287 wants a term attribute and child elements.
// Fields of the wrapper that share an element name with a field of the
// embedded gorilla struct replace it (encoding/xml resolves the clash like
// Go's embedding does: the shallower field wins).

// atomFeed is gorilla's feed with a self link and the entries below.
type atomFeed struct {
	*feeds.AtomFeed
	Links   []feeds.AtomLink `xml:"link"`
	Entries []*atomEntry     `xml:"entry"`
}

// FeedXml makes atomFeed a feeds.XmlFeed for feeds.WriteXML.
func (f *atomFeed) FeedXml() any { return f }

type atomEntry struct {
	*feeds.AtomEntry
	Authors    []feeds.AtomAuthor `xml:"author"`
	Categories []atomCategory     `xml:"category"`
	Source     *atomSource        `xml:"source"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// atomSource says where an entry comes from (RFC 4287 4.2.11): the source
// feed's own id (else the URL newsdesk polls), title, updated and authors,
// and its self and alternate links, which is what an aggregator should
// keep of the feed it copies an entry from.
type atomSource struct {
	ID      string             `xml:"id,omitempty"`
	Title   string             `xml:"title"`
	Updated string             `xml:"updated,omitempty"`
	Authors []feeds.AtomAuthor `xml:"author"`
	Links   []feeds.AtomLink   `xml:"link"`
}

func renderAtom(v *sectionView) ([]byte, error) {
	f := v.gorillaFeed()
	af := (&feeds.Atom{Feed: f}).AtomFeed()

	self := v.URL(".atom")
	// The id is the feed's URL without a private section's token, so that
	// a new token does not make it another feed.
	af.Id = v.base + "sections/" + v.ID + ".atom"
	af.Link = nil
	af.Updated = atomTime(v.Updated)
	out := &atomFeed{
		AtomFeed: af,
		Links: []feeds.AtomLink{
			{Href: self, Rel: "self", Type: "application/atom+xml"},
			{Href: v.HomeURL(), Rel: "alternate", Type: "text/html"},
		},
	}
	for _, hub := range v.Hubs {
		out.Links = append(out.Links, feeds.AtomLink{Href: hub, Rel: "hub"})
	}
	for i, e := range af.Entries {
		it := &v.Items[i]
		e.Updated = atomTime(it.Updated)
		e.Published = atomTime(it.Published)
		e.Links = []feeds.AtomLink{{Href: it.Link, Rel: "alternate"}}
		for _, enc := range it.Enclosures {
			l := feeds.AtomLink{Href: enc.URL, Rel: "enclosure", Type: enc.Type}
			if enc.Length > 0 {
				l.Length = strconv.FormatInt(enc.Length, 10)
			}
			e.Links = append(e.Links, l)
		}
		oe := &atomEntry{AtomEntry: e, Source: atomSourceOf(it.Source)}
		oe.Authors = atomAuthors(it.Authors)
		if it.NoAuthor && it.Source.HomeURL != "" {
			oe.Authors[0].Uri = it.Source.HomeURL
		}
		for _, c := range it.Categories {
			oe.Categories = append(oe.Categories, atomCategory{Term: c})
		}
		out.Entries = append(out.Entries, oe)
	}
	af.Entries = nil

	return writeXML(out)
}

// atomAuthors are persons as Atom authors.
func atomAuthors(ps []newsdesk.Person) []feeds.AtomAuthor {
	var out []feeds.AtomAuthor
	for _, p := range ps {
		a := feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: p.Name, Uri: p.URI}}
		// RFC 4287 wants an address in <email>; anything else is
		// better left out than making the feed invalid.
		if i := strings.IndexByte(p.Email, '@'); i > 0 && i < len(p.Email)-1 && p.Email != p.Name {
			a.Email = p.Email
		}
		out = append(out, a)
	}
	return out
}

func atomSourceOf(s source) *atomSource {
	as := &atomSource{ID: s.FeedID, Title: s.Title, Authors: atomAuthors(s.Authors)}
	if !s.Updated.IsZero() {
		as.Updated = atomTime(s.Updated)
	}
	if s.FeedURL != "" {
		as.Links = append(as.Links, feeds.AtomLink{Href: s.FeedURL, Rel: "self"})
	}
	if s.HomeURL != "" && s.HomeURL != s.FeedURL {
		as.Links = append(as.Links, feeds.AtomLink{Href: s.HomeURL, Rel: "alternate"})
	}
	return as
}

// writeXML is feeds.WriteXML with a line break after the XML declaration
// and at the end, which makes the files and their diffs easier to read.
func writeXML(f feeds.XmlFeed) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(f.FeedXml()); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// gorillaFeed is the section as gorilla's generic feed, the common start of
// the Atom and RSS renderings. Every item has an id, so gorilla never makes
// up a random one.
func (v *sectionView) gorillaFeed() *feeds.Feed {
	f := &feeds.Feed{
		Title:       v.Title,
		Link:        &feeds.Link{Href: v.HomeURL()},
		Description: v.Description,
		Updated:     v.Updated,
	}
	for i := range v.Items {
		it := &v.Items[i]
		fi := &feeds.Item{
			Title:       it.Title,
			Link:        &feeds.Link{Href: it.Link},
			Description: it.Summary,
			Content:     it.Content,
			Id:          it.ID,
			Created:     it.Published,
			Updated:     it.Updated,
		}
		f.Add(fi)
	}
	return f
}
