package fetcher

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/url"
	"strings"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/websub"
)

// WebSub discovery (WebSub 4): a feed names its hub and its own canonical
// URL (rel="hub", rel="self") in the HTTP Link header or, when the header
// has none, in its body (Client.Fetch takes the header's, parse the
// body's). gofeed's universal feed drops the rel of a feed's links, so
// the body is scanned here on its own.

// bodyLinks returns the hub and self links a feed document names: a JSON
// Feed's "hubs" of type WebSub and its feed_url, or the feed- or
// channel-level link elements (Atom link, RSS atom:link) with rel="hub"
// or rel="self", read up to the first entry or item.
func bodyLinks(text []byte, base *url.URL) newsdesk.WebSubLinks {
	if t := bytes.TrimSpace(text); len(t) > 0 && t[0] == '{' {
		return jsonFeedLinks(t, base)
	}
	var hubs, selfs []string
	d := xml.NewDecoder(bytes.NewReader(text))
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // text is UTF-8 already
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if name := strings.ToLower(el.Name.Local); name == "entry" || name == "item" {
			break
		} else if name != "link" {
			continue
		}
		var rel, href string
		for _, a := range el.Attr {
			switch strings.ToLower(a.Name.Local) {
			case "rel":
				rel = a.Value
			case "href":
				href = a.Value
			}
		}
		for _, r := range strings.Fields(strings.ToLower(rel)) {
			switch r {
			case "hub":
				hubs = append(hubs, href)
			case "self":
				selfs = append(selfs, href)
			}
		}
	}
	return fromURLs(hubs, selfs, base)
}

// jsonFeedLinks returns a JSON Feed's WebSub hubs and its feed_url as
// self.
func jsonFeedLinks(text []byte, base *url.URL) newsdesk.WebSubLinks {
	var f struct {
		FeedURL string `json:"feed_url"`
		Hubs    []struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"hubs"`
	}
	if json.Unmarshal(text, &f) != nil {
		return newsdesk.WebSubLinks{}
	}
	var hubs []string
	for _, h := range f.Hubs {
		if strings.EqualFold(h.Type, "websub") {
			hubs = append(hubs, h.URL)
		}
	}
	return fromURLs(hubs, []string{f.FeedURL}, base)
}

// fromURLs builds WebSubLinks from the raw hub and self URLs a body gives,
// through ParseLinks so that they are resolved and checked as a Link
// header's are.
func fromURLs(hubs, selfs []string, base *url.URL) newsdesk.WebSubLinks {
	var hs []string
	for _, h := range hubs {
		hs = append(hs, linkValue(h, "hub"))
	}
	for _, s := range selfs {
		hs = append(hs, linkValue(s, "self"))
	}
	return websub.ParseLinks(hs, base)
}

// linkValue is a Link header value for the URL u with the rel given;
// characters that would end the URL early are escaped.
func linkValue(u, rel string) string {
	u = strings.NewReplacer(">", "%3E", "<", "%3C", " ", "%20").Replace(strings.TrimSpace(u))
	return "<" + u + `>; rel="` + rel + `"`
}
