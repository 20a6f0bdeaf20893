package publisher

import (
	"strconv"
	"time"

	"github.com/gorilla/feeds"
)

// gorilla/feeds v1.2.0 gets these parts of RSS 2.0 wrong, so its structs are
// wrapped as for Atom: <source> has no url attribute (required); <author>
// gets a name where RSS wants an email address (names go in dc:creator); one
// <category> at most; an enclosure without both type and length is dropped;
// there is no atom:link rel="self" (nor rel="hub", for WebSub).

const (
	nsAtom = "http://www.w3.org/2005/Atom"
	nsDC   = "http://purl.org/dc/elements/1.1/"
)

type rssDoc struct {
	*feeds.RssFeedXml
	AtomNS  string      `xml:"xmlns:atom,attr"`
	DCNS    string      `xml:"xmlns:dc,attr"`
	Channel *rssChannel `xml:"channel"`
}

// FeedXml makes rssDoc a feeds.XmlFeed for feeds.WriteXML.
func (d *rssDoc) FeedXml() any { return d }

type rssChannel struct {
	*feeds.RssFeed
	Links []rssAtomLink `xml:"atom:link"` // self, then each WebSub hub
	Items []*rssItem    `xml:"item"`
}

type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	*feeds.RssItem
	Creators   []string   `xml:"dc:creator"`
	Categories []string   `xml:"category"`
	Source     *rssSource `xml:"source"`
}

type rssSource struct {
	URL   string `xml:"url,attr"`
	Title string `xml:",chardata"`
}

func renderRSS(v *sectionView) ([]byte, error) {
	f := v.gorillaFeed()
	ch := (&feeds.Rss{Feed: f}).RssFeed()
	// The section's version dates the channel, empty or not.
	ch.PubDate = rssTime(v.Updated)
	ch.LastBuildDate = ch.PubDate
	// <ttl> is minutes; readers should not poll sooner than the sources do.
	ch.Ttl = int((v.MaxAge + time.Minute - 1) / time.Minute)

	out := &rssChannel{
		RssFeed: ch,
		Links:   []rssAtomLink{{Href: v.URL(".rss"), Rel: "self", Type: "application/rss+xml"}},
	}
	for _, hub := range v.Hubs {
		out.Links = append(out.Links, rssAtomLink{Href: hub, Rel: "hub"})
	}
	// A link is a guid only once: the same article may come from two
	// sources, and readers take a repeated guid for the same item.
	seen := make(map[string]bool)
	for i, ri := range ch.Items {
		it := &v.Items[i]
		ri.PubDate = rssTime(it.Published)
		ri.Author = ""
		if it.Permalink && !seen[it.Link] {
			seen[it.Link] = true
			ri.Guid = &feeds.RssGuid{Id: it.Link}
		} else {
			ri.Guid = &feeds.RssGuid{Id: it.ID, IsPermaLink: "false"}
		}
		if ri.Description == "" {
			ri.Description = it.Content
		}
		// RSS 2.0 readers disagree on more than one enclosure per item;
		// the Atom and JSON feeds carry them all.
		ri.Enclosure = nil
		if len(it.Enclosures) > 0 {
			e := it.Enclosures[0]
			ri.Enclosure = &feeds.RssEnclosure{Url: e.URL, Type: e.Type, Length: strconv.FormatInt(e.Length, 10)}
		}
		oi := &rssItem{RssItem: ri, Categories: it.Categories}
		// RSS needs no author, so the stand-in is left out: <source>
		// already names the source.
		for _, p := range it.Authors {
			if !it.NoAuthor {
				oi.Creators = append(oi.Creators, p.Name)
			}
		}
		if it.Source.FeedURL != "" {
			oi.Source = &rssSource{URL: it.Source.FeedURL, Title: it.Source.Title}
		}
		out.Items = append(out.Items, oi)
	}
	ch.Items = nil

	doc := &rssDoc{
		RssFeedXml: ch.FeedXml().(*feeds.RssFeedXml),
		AtomNS:     nsAtom,
		DCNS:       nsDC,
		Channel:    out,
	}
	return writeXML(doc)
}

func rssTime(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }
