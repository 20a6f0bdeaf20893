package fetcher

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"

	"github.com/newsdesk/newsdesk"
)

// FuzzNormalize feeds arbitrary bodies through parse, the path every fetched
// body takes (charset decoding, gofeed, Normalize), and checks what newsdesk
// would republish: no panic, text fields in clean UTF-8, HTML fields without
// anything that runs script. The seed corpus (the fixtures below and
// testdata/fuzz/FuzzNormalize) runs in every plain go test.
func FuzzNormalize(f *testing.F) {
	for _, name := range []string{"messy.rss", "relative.atom", "moscowtimes.rss", "russian.rss", "hints.atom"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "application/xml", "https://example.org/feeds/"+name)
	}
	f.Add([]byte(`<rss version="2.0"><channel><title>t</title><item><guid>g&#1;</guid>`+
		`<title>&lt;b onclick="x()"&gt;T&lt;/b&gt; &amp;amp; &#x7;</title><link>/a?utm_source=x#f</link>`+
		`<description>&lt;img src=x onerror=alert(1)&gt;&lt;a href="java&amp;#x09;script:alert(1)"&gt;x&lt;/a&gt;`+
		`&lt;script&gt;alert(1)&lt;/script&gt;&lt;img srcset="a.jpg 1x, javascript:alert(1) 2x"&gt;</description>`+
		`<pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate><category>a&#x1b;b</category></item></channel></rss>`),
		"text/xml; charset=windows-1251", "https://example.org/rss")
	f.Add([]byte(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="/base/"><title type="html">&lt;i&gt;x&lt;/i&gt;</title>`+
		`<entry><id> urn:x
 1 </id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><b>X</b></div></title><link href="p.html"/>`+
		`<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><a href="q.html" onmouseover="x()">q</a><iframe src="f"/></div></content>`+
		`<author><name>A&#9;B</name></author><updated>9999-12-31T00:00:00Z</updated></entry></feed>`),
		"application/atom+xml", "https://example.org/atom.xml")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[{"id":"\u0001","url":"javascript:alert(1)",`+
		`"title":"\u0007t","content_html":"<svg onload=alert(1)><p style=x>\u0000</p>","date_published":"yesterday",`+
		`"attachments":[{"url":"data:text/html,x","mime_type":"text/html"}]}]}`),
		"application/feed+json", "https://example.org/feed.json")
	f.Add([]byte("<rss><channel><item><description>&lt;a href='\x01javascript:alert(1)'&gt;x&lt;/a&gt;</description></item></channel></rss>"), "", "")

	f.Fuzz(func(t *testing.T, body []byte, contentType, feedURL string) {
		resp, err := parse(body, contentType, feedURL, newsdesk.Source{ID: "fuzz"}, fetchNow)
		if err != nil {
			if strings.Contains(err.Error(), "parser panic") {
				t.Fatalf("parse() panicked: %v", err)
			}
			return
		}
		for i, it := range resp.Items {
			if msg := checkItem(it); msg != "" {
				t.Errorf("item %d (%q): %s", i, it.ID, msg)
			}
		}
	})
}

// FuzzCleanHTML goes straight at the HTML path, which FuzzNormalize reaches
// only through a feed's XML: whatever the markup, the result is clean UTF-8
// without anything that runs script.
func FuzzCleanHTML(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "sanitize", "*.html"))
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), goldenBase)
	}
	f.Add(`<a href="x" onclick=y>a</a><svg><script>alert(1)</script></svg><math><mi xlink:href="javascript:1">x</mi></math>`, "")
	f.Add(`<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript><template><script>1</script></template>`, "/rel")
	f.Add(`<img srcset="a.jpg 1x,javascript:alert(1) 2x, data:x 3x"><table><form><input onfocus=x autofocus>`, "https://x.example/a/b")
	f.Fuzz(func(t *testing.T, s, base string) {
		var b *url.URL
		if u, err := url.Parse(base); err == nil {
			b = u
		}
		got := cleanHTML(s, b)
		if msg := badText(got, true); msg != "" {
			t.Fatalf("cleanHTML(%q) = %q: %s", s, got, msg)
		}
		if msg := unsafeHTML(got); msg != "" {
			t.Fatalf("cleanHTML(%q) = %q: %s", s, got, msg)
		}
	})
}

// checkItem returns what is wrong with an item for republishing, or "".
func checkItem(it newsdesk.Item) string {
	text := map[string]string{"ID": it.ID, "Title": it.Title, "Link": it.Link, "RawDate": it.RawDate}
	for i, c := range it.Categories {
		text[fmt.Sprintf("Categories[%d]", i)] = c
	}
	for i, p := range it.Authors {
		text[fmt.Sprintf("Authors[%d].Name", i)] = p.Name
		text[fmt.Sprintf("Authors[%d].Email", i)] = p.Email
	}
	for i, e := range it.Enclosures {
		text[fmt.Sprintf("Enclosures[%d].URL", i)] = e.URL
	}
	for field, s := range text {
		if msg := badText(s, false); msg != "" {
			return fmt.Sprintf("%s %q: %s", field, s, msg)
		}
	}
	if it.ID == "" {
		return "empty ID"
	}
	if len(it.RawDate) > maxRawDate {
		return fmt.Sprintf("RawDate is %d bytes", len(it.RawDate))
	}
	if it.Link != "" && !newsdesk.IsHTTPURL(it.Link) {
		return fmt.Sprintf("Link %q is not an http(s) URL", it.Link)
	}
	for _, e := range it.Enclosures {
		if !newsdesk.IsHTTPURL(e.URL) {
			return fmt.Sprintf("enclosure %q is not an http(s) URL", e.URL)
		}
	}
	for field, s := range map[string]string{"Summary": it.Summary, "Content": it.Content} {
		if msg := badText(s, true); msg != "" {
			return fmt.Sprintf("%s %q: %s", field, s, msg)
		}
		if msg := unsafeHTML(s); msg != "" {
			return fmt.Sprintf("%s %q: %s", field, s, msg)
		}
	}
	for _, tm := range []time.Time{it.Published, it.Updated} {
		if !tm.IsZero() && (tm.Location() != time.UTC || tm.Before(earliestDate) || tm.After(fetchNow)) {
			return fmt.Sprintf("date %v not in UTC between 1990 and now", tm)
		}
	}
	return ""
}

// badText reports invalid UTF-8 and control characters; html fields may
// keep tabs and line breaks.
func badText(s string, html bool) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		if html && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if r < 0x20 || r == 0xFFFE || r == 0xFFFF {
			return fmt.Sprintf("control character %U", r)
		}
	}
	return ""
}

// dangerousElements must not survive sanitizing.
var dangerousElements = map[string]bool{
	"script": true, "style": true, "iframe": true, "object": true, "embed": true, "form": true,
	"input": true, "button": true, "textarea": true, "select": true, "frame": true, "frameset": true,
	"base": true, "link": true, "meta": true, "svg": true, "math": true, "applet": true,
}

// unsafeHTML reports what in sanitized HTML could run script, or "". It
// reads the HTML as a browser would, so that text about "javascript:" or
// "onerror=" in an article is not mistaken for markup: <script anywhere
// (text is escaped, so it can only be a tag), dangerous elements, on* and
// style attributes, and a javascript:, vbscript: or data: URL in any
// attribute that holds one (each candidate of a srcset).
func unsafeHTML(s string) string {
	if strings.Contains(strings.ToLower(s), "<script") {
		return "contains <script"
	}
	z := xhtml.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return ""
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if dangerousElements[tok.Data] {
			return "element " + tok.Data
		}
		for _, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			if strings.HasPrefix(key, "on") {
				return fmt.Sprintf("event attribute %s=%q", a.Key, a.Val)
			}
			if key == "style" {
				return fmt.Sprintf("style attribute %q", a.Val)
			}
			if !urlAttrs[key] && key != "action" && key != "formaction" && key != "data" && key != "background" {
				continue
			}
			urls := []string{a.Val}
			if key == "srcset" {
				urls = urls[:0]
				for _, c := range srcsetCandidates(a.Val) {
					urls = append(urls, c.url)
				}
			}
			for _, u := range urls {
				if scriptURL(strings.Map(dropBreak, u)) {
					return fmt.Sprintf("URL attribute %s=%q", a.Key, a.Val)
				}
			}
		}
	}
}
