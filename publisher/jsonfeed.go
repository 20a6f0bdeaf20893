package publisher

import (
	"bytes"
	"encoding/json"
)

// JSON Feed is written with structs of its own rather than gorilla's:
// gorilla/feeds v1.2.0 drops the required "items" key from an empty feed
// (omitempty), never sets feed_url, maps only image enclosures, names the
// attachment size "size" instead of "size_in_bytes" (an int32 at that), and
// has no room for the _newsdesk extension that attributes each item.

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

type jsonFeed struct {
	Version     string     `json:"version"`
	Title       string     `json:"title"`
	HomePageURL string     `json:"home_page_url"`
	FeedURL     string     `json:"feed_url"`
	Description string     `json:"description,omitempty"`
	Hubs        []jsonHub  `json:"hubs,omitempty"`
	Items       []jsonItem `json:"items"`
}

// jsonHub is a WebSub hub the feed advertises; feed_url is its topic.
type jsonHub struct {
	Type string `json:"type"` // "WebSub"
	URL  string `json:"url"`
}

type jsonItem struct {
	ID            string           `json:"id"`
	URL           string           `json:"url"`
	Title         string           `json:"title"`
	ContentHTML   string           `json:"content_html,omitempty"`
	ContentText   string           `json:"content_text,omitempty"`
	Summary       string           `json:"summary,omitempty"`
	DatePublished string           `json:"date_published"`
	DateModified  string           `json:"date_modified"`
	Authors       []jsonAuthor     `json:"authors"`
	Tags          []string         `json:"tags,omitempty"`
	Attachments   []jsonAttachment `json:"attachments,omitempty"`
	Newsdesk      jsonExtension    `json:"_newsdesk"`
}

type jsonAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type jsonAttachment struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
	Size     int64  `json:"size_in_bytes,omitempty"`
}

// jsonExtension is the item's _newsdesk object: which source it came from,
// and the same story from other sources that the section collapsed into it.
type jsonExtension struct {
	Source     jsonSource      `json:"source"`
	Duplicates []jsonDuplicate `json:"duplicates,omitempty"`
}

type jsonDuplicate struct {
	Source string `json:"source"` // the source's id
	ID     string `json:"id"`     // the item's id in this feed's scheme, had it been shown
}

type jsonSource struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	URL         string `json:"url,omitempty"` // the feed newsdesk polls
	HomePageURL string `json:"home_page_url,omitempty"`
}

func renderJSON(v *sectionView) ([]byte, error) {
	f := jsonFeed{
		Version:     jsonFeedVersion,
		Title:       v.Title,
		HomePageURL: v.HomeURL(),
		FeedURL:     v.URL(".json"),
		Description: v.Description,
		Items:       make([]jsonItem, 0, len(v.Items)),
	}
	for _, hub := range v.Hubs {
		f.Hubs = append(f.Hubs, jsonHub{Type: "WebSub", URL: hub})
	}
	for i := range v.Items {
		it := &v.Items[i]
		ji := jsonItem{
			ID:            it.ID,
			URL:           it.Link,
			Title:         it.Title,
			ContentHTML:   it.Content,
			DatePublished: atomTime(it.Published),
			DateModified:  atomTime(it.Updated),
			Tags:          it.Categories,
			Newsdesk: jsonExtension{Source: jsonSource{
				ID:          it.Source.ID,
				Title:       it.Source.Title,
				URL:         it.Source.FeedURL,
				HomePageURL: it.Source.HomeURL,
			}},
		}
		if ji.ContentHTML == "" {
			ji.ContentHTML = it.Summary
		} else if it.Summary != "" {
			// JSON Feed's summary is plain text.
			ji.Summary = htmlToText(it.Summary)
		}
		if ji.ContentHTML == "" {
			// One of the two is required; the title is all there is.
			ji.ContentText = it.Title
		}
		for _, p := range it.Authors {
			a := jsonAuthor{Name: p.Name, URL: p.URI}
			if it.NoAuthor {
				a.URL = it.Source.HomeURL
			}
			ji.Authors = append(ji.Authors, a)
		}
		for _, d := range it.Duplicates {
			ji.Newsdesk.Duplicates = append(ji.Newsdesk.Duplicates, jsonDuplicate{Source: d.SourceID, ID: d.URN()})
		}
		for _, e := range it.Enclosures {
			ji.Attachments = append(ji.Attachments, jsonAttachment{URL: e.URL, MIMEType: e.Type, Size: e.Length})
		}
		f.Items = append(f.Items, ji)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// "AT&T" stays "AT&T" rather than "AT\u0026T": this is not HTML.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
