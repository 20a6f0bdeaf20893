package publisher

import (
	"bytes"
	"encoding/xml"
	"html/template"
)

// indexTemplate is the site's front page: what sections there are and where
// their feeds live. Autodiscovery links in <head> are absolute, as readers
// want; links in the body are relative, so the static export can be browsed
// from any prefix or from disk.
var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{- range .Sections}}
<link rel="alternate" type="application/rss+xml" title="{{.Title}} (RSS)" href="{{.FeedURL}}.rss">
<link rel="alternate" type="application/atom+xml" title="{{.Title}} (Atom)" href="{{.FeedURL}}.atom">
<link rel="alternate" type="application/feed+json" title="{{.Title}} (JSON Feed)" href="{{.FeedURL}}.json">
{{- end}}
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #222; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.2rem; margin: 0; }
section { border-top: 1px solid #ddd; padding: 1rem 0; }
p { margin: .25rem 0; }
.meta { color: #666; font-size: .9rem; }
.feeds a { display: inline-block; margin-right: .75rem; }
a { color: #0b57d0; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="meta">{{len .Sections}} {{if eq (len .Sections) 1}}section{{else}}sections{{end}} · <a href="sections.opml">OPML subscription list</a></p>
</header>
<main>
{{- range .Sections}}
<section id="{{.ID}}">
<h2>{{.Title}}</h2>
<p>{{.Description}}</p>
<p class="meta">{{len .Items}} {{if eq (len .Items) 1}}item{{else}}items{{end}}{{if not .Updated.IsZero}} · newest <time datetime="{{.Updated.Format "2006-01-02T15:04:05Z07:00"}}">{{.Updated.Format "2 Jan 2006 15:04 MST"}}</time>{{end}}</p>
<p class="feeds"><a href="sections/{{.ID}}.rss">RSS</a> <a href="sections/{{.ID}}.atom">Atom</a> <a href="sections/{{.ID}}.json">JSON Feed</a></p>
</section>
{{- else}}
<p>No sections are configured.</p>
{{- end}}
</main>
</body>
</html>
`))

func renderIndex(base, title string, sections []*sectionView) ([]byte, error) {
	var buf bytes.Buffer
	err := indexTemplate.Execute(&buf, struct {
		Base     string
		Title    string
		Sections []*sectionView
	}{base, title, sections})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// opml is an OPML 2.0 subscription list with one outline per section,
// pointing at its RSS feed (type="rss" is what OPML readers expect).
type opml struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Docs    string        `xml:"head>docs"`
	Outline []opmlOutline `xml:"body>outline"`
}

type opmlOutline struct {
	Type        string `xml:"type,attr"`
	Text        string `xml:"text,attr"`
	Title       string `xml:"title,attr"`
	Description string `xml:"description,attr,omitempty"`
	XMLURL      string `xml:"xmlUrl,attr"`
	HTMLURL     string `xml:"htmlUrl,attr"`
}

func renderOPML(title string, sections []*sectionView) ([]byte, error) {
	doc := opml{Version: "2.0", Title: title, Docs: "http://opml.org/spec2.opml"}
	for _, v := range sections {
		doc.Outline = append(doc.Outline, opmlOutline{
			Type:        "rss",
			Text:        v.Title,
			Title:       v.Title,
			Description: v.Description,
			XMLURL:      v.FeedURL + ".rss",
			HTMLURL:     v.HomeURL,
		})
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
