package publisher

import (
	"bytes"
	"encoding/xml"
	"html/template"
)

// pages are the site's HTML: the front page, which says what sections there
// are and where their feeds live, and each section's page, which lists its
// items. Autodiscovery links in <head> are absolute, as readers want; links
// in the body are relative, so the static export can be browsed from any
// prefix. Sections link to their page as sections/ID.html, which the export
// writes and Server answers as well as sections/ID. A private section's
// links carry its token, and its pages ask browsers not to send their
// address (token included) to the sites the items link to. An item with an
// article (full_text) shows it whole, attribution included; others show a
// one-line snippet.
var pages = template.Must(template.New("").Parse(`
{{- define "head"}}<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{- if .Private}}
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
{{- end}}
{{- end}}

{{- define "alternates"}}
<link rel="alternate" type="application/rss+xml" title="{{.Title}} (RSS)" href="{{.URL ".rss"}}">
<link rel="alternate" type="application/atom+xml" title="{{.Title}} (Atom)" href="{{.URL ".atom"}}">
<link rel="alternate" type="application/feed+json" title="{{.Title}} (JSON Feed)" href="{{.URL ".json"}}">
{{- end}}

{{- define "style"}}
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #222; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 0; line-height: 1.3; }
section, article { border-top: 1px solid #ddd; padding: 1rem 0; }
p { margin: .25rem 0; }
nav { font-size: .9rem; margin-bottom: 1rem; }
.meta { color: #666; font-size: .9rem; }
.feeds a { display: inline-block; margin-right: .75rem; }
.notes { color: #8a1c1c; font-size: .9rem; margin: .25rem 0; padding-left: 1.2rem; }
.tag { font-size: .75rem; color: #8a5a00; border: 1px solid #d8b46a; border-radius: 3px; padding: 0 .3rem; vertical-align: middle; }
a { color: #0b57d0; }
h2 a { text-decoration: none; }
h2 a:hover { text-decoration: underline; }
</style>
{{- end}}

{{- define "stats"}}{{.Count}} {{if eq .Count 1}}item{{else}}items{{end}}{{if not .Updated.IsZero}} · updated <time datetime="{{.Updated.Format "2006-01-02T15:04:05Z07:00"}}">{{.Updated.Format "2 Jan 2006 15:04 MST"}}</time>{{end}}{{end}}

{{- define "notes"}}
{{- if .Notes}}
<ul class="notes">
{{- range .Notes}}
<li>no items yet: {{.}}</li>
{{- end}}
</ul>
<p class="meta">Details: {{if .Status}}the <a href="{{.Status}}">status page</a>, or {{end}}<code>newsdesk status</code>.</p>
{{- end}}
{{- end}}

{{- define "index"}}<!DOCTYPE html>
<html lang="en">
<head>
{{template "head" .}}
<title>{{.Title}}</title>
{{- range .Sections}}{{template "alternates" .}}{{end}}
{{- template "style"}}
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="meta">{{len .Sections}} {{if eq (len .Sections) 1}}section{{else}}sections{{end}} · <a href="sections.opml{{.Query}}">OPML subscription list</a></p>
</header>
<main>
{{- range .Sections}}
<section id="{{.ID}}">
<h2><a href="{{.Href ".html"}}">{{.Title}}</a>{{if .Token}} <span class="tag">private</span>{{end}}</h2>
<p>{{.Description}}</p>
<p class="meta">{{template "stats" .}}</p>
{{- template "notes" (.StatusNotes "")}}
<p class="feeds"><a href="{{.Href ".rss"}}">RSS</a> <a href="{{.Href ".atom"}}">Atom</a> <a href="{{.Href ".json"}}">JSON Feed</a></p>
</section>
{{- else}}
<p>No sections are configured.</p>
{{- end}}
</main>
</body>
</html>
{{end}}

{{- define "page"}}<!DOCTYPE html>
<html lang="en">
<head>
{{template "head" .}}
<title>{{.Section.Title}} · {{.SiteTitle}}</title>
{{- template "alternates" .Section}}
<link rel="self" href="{{.Section.URL ".html"}}">
{{- range .Section.Hubs}}
<link rel="hub" href="{{.}}">
{{- end}}
{{- template "style"}}
{{- if .Section.Stories}}
<style>
.story { overflow-wrap: anywhere; margin-top: .5rem; }
.story p { margin: .5rem 0; }
.story pre, .story table { display: block; overflow-x: auto; }
.story img, .story video { max-width: 100%; height: auto; }
</style>
{{- end}}
</head>
<body>
<nav><a href="../{{.Query}}">← {{.SiteTitle}}</a></nav>
{{- with .Section}}
<header>
<h1>{{.Title}}{{if .Token}} <span class="tag">private</span>{{end}}</h1>
<p>{{.Description}}</p>
<p class="meta">{{template "stats" .}}</p>
{{- template "notes" (.StatusNotes "../")}}
<p class="feeds"><a href="{{.PageHref ".rss"}}">RSS</a> <a href="{{.PageHref ".atom"}}">Atom</a> <a href="{{.PageHref ".json"}}">JSON Feed</a></p>
</header>
<main>
{{- range .Items}}
<article>
<h2><a href="{{.Link}}">{{.Title}}</a></h2>
<p class="meta">{{.Source.Title}} · <time datetime="{{.Published.Format "2006-01-02T15:04:05Z07:00"}}">{{.Published.Format "2 Jan 2006 15:04 MST"}}</time></p>
{{- if .Full}}
<div class="story">
{{.Story}}
</div>
{{- else if .Snippet}}
<p>{{.Snippet}}</p>
{{- end}}
</article>
{{- else}}
<p>No items yet.</p>
{{- end}}
</main>
{{- end}}
</body>
</html>
{{end}}`))

// Stories reports whether an item of the section shows its article: its
// page then gets the style for whole stories. Pages without one are as
// they were.
func (v *sectionView) Stories() bool {
	for i := range v.Items {
		if v.Items[i].Full {
			return true
		}
	}
	return false
}

// Story is the item's article, with its attribution, for the section page.
// It is HTML the store sanitized when the article was extracted (the
// same policy as feed content, absolute URLs only) and clean made fit for
// XML, so the template takes it as it is; the page's
// Content-Security-Policy still allows no script, frame or image load.
func (v *itemView) Story() template.HTML { return template.HTML(v.Content) }

func renderIndex(title, query string, sections []*sectionView) ([]byte, error) {
	var buf bytes.Buffer
	err := pages.ExecuteTemplate(&buf, "index", struct {
		Title    string
		Query    string // the token query, for the OPML link
		Private  bool
		Sections []*sectionView
	}{title, query, query != "", sections})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func renderPage(siteTitle string, v *sectionView) ([]byte, error) {
	var buf bytes.Buffer
	err := pages.ExecuteTemplate(&buf, "page", struct {
		SiteTitle string
		Query     string // the token query, for the link back to the index
		Private   bool
		Section   *sectionView
	}{siteTitle, tokenQuery(v.Token), v.Token != "", v})
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
			XMLURL:      v.URL(".rss"),
			HTMLURL:     v.HomeURL(),
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
