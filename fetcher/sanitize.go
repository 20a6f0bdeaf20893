package fetcher

import (
	"bytes"
	"html"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/newsdesk/newsdesk"
)

// htmlPolicy is the allow-list item HTML is republished through: bluemonday's
// UGCPolicy (no script, style, iframe, object, embed or form elements, no
// on* or style attributes, only http, https and mailto URLs, rel="nofollow"
// on links), plus srcset on images when every candidate is an absolute
// http(s) URL, and any text in alt and title. A Policy is safe for
// concurrent use once built.
var htmlPolicy = newHTMLPolicy()

// srcsetPattern matches a srcset whose every candidate is an absolute
// http(s) URL with at most one width, density or height descriptor. URLs
// are resolved before sanitizing, so a relative candidate left over means
// there was nothing to resolve it against; the attribute is then dropped and
// src remains.
var srcsetPattern = regexp.MustCompile(`(?i)^\s*https?://\S+?(\s+[0-9.]+[wxh])?\s*(,\s*https?://\S+?(\s+[0-9.]+[wxh])?\s*)*,?\s*$`)

func newHTMLPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("srcset").Matching(srcsetPattern).OnElements("img")
	// UGCPolicy keeps alt and title only when they are letters, digits and
	// a little punctuation: an alt with «», a dash or a question mark would
	// be lost. They are text, escaped when written, so any text will do.
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("title").Globally()
	return p
}

// cleanHTML makes the HTML of an item's summary or content fit to
// republish: control characters dropped, parsed as a browser would and
// written out again with relative URLs resolved against base (tidyHTML),
// then sanitized by htmlPolicy, and trimmed. Resolving comes first so that
// the policy judges the URLs a reader's browser would follow. Control
// characters are dropped again at the end because the parser decodes
// character references such as "&#1;".
//
// Text without markup comes out as the sanitizer would write it, without
// running it: one text token, decoded and escaped. Markup is tidied by
// fastTidy when it can, which reads it once without building a tree, else
// by tidyHTML; either way into a pooled buffer the sanitizer reads from.
func cleanHTML(s string, base *url.URL) string {
	s = strings.TrimSpace(stripControls(s))
	if s == "" {
		return ""
	}
	if !strings.ContainsRune(s, '<') {
		return strings.TrimSpace(stripControls(xhtml.EscapeString(htmlText(s))))
	}
	buf := htmlBuffers.Get().(*bytes.Buffer)
	defer putHTMLBuffer(buf)
	if !fastTidy(buf, s, base) {
		buf.Reset()
		buf.WriteString(tidyHTML(s, base))
	}
	var out strings.Builder
	out.Grow(buf.Len())
	// The sanitizer returns nothing for markup it fails on (Sanitize does
	// the same).
	if err := htmlPolicy.SanitizeReaderToWriter(buf, &out); err != nil {
		return ""
	}
	return strings.TrimSpace(stripControls(out.String()))
}

// htmlBuffers hold tidied HTML on its way to the sanitizer.
var htmlBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledHTML is the largest buffer htmlBuffers keeps: one huge item
// must not stay in memory for good.
const maxPooledHTML = 64 << 10

func putHTMLBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledHTML {
		return
	}
	b.Reset()
	htmlBuffers.Put(b)
}

// urlAttrs are the HTML attributes whose value is a URL (srcset holds a
// list of them). gofeed resolves some of them against xml:base in Atom
// content; everything else is resolved here.
var urlAttrs = map[string]bool{
	"href":   true,
	"src":    true,
	"srcset": true,
	"poster": true,
	"cite":   true,
}

// tidyHTML parses s as the content of a <body>, the way browsers do, and
// renders it again with the URL attributes resolved against base (when not
// nil). The rendering has every element closed and nested: an unclosed <a>
// or <b> in one item cannot spill into the page around it, and the
// sanitizer reads the markup as a browser would. Text without markup
// is returned as it is. Markup the parser refuses (nested deeper than 512
// elements) is reduced to its text.
func tidyHTML(s string, base *url.URL) string {
	if !strings.ContainsRune(s, '<') {
		return s
	}
	body := &xhtml.Node{Type: xhtml.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := xhtml.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		return html.EscapeString(newsdesk.HTMLText(s))
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for _, n := range nodes {
		if base != nil {
			resolveNode(n, base)
		}
		if err := xhtml.Render(&b, n); err != nil {
			return html.EscapeString(newsdesk.HTMLText(s))
		}
	}
	return b.String()
}

// resolveNode resolves the URL attributes of n and its descendants.
func resolveNode(n *xhtml.Node, base *url.URL) {
	for d := range n.Descendants() {
		resolveAttrs(d, base)
	}
	resolveAttrs(n, base)
}

func resolveAttrs(n *xhtml.Node, base *url.URL) {
	if n.Type != xhtml.ElementNode {
		return
	}
	for i, a := range n.Attr {
		if a.Namespace != "" || !urlAttrs[a.Key] {
			continue
		}
		if a.Key == "srcset" {
			n.Attr[i].Val = resolveSrcset(base, a.Val)
		} else {
			n.Attr[i].Val = absURL(base, a.Val)
		}
	}
}

// resolveSrcset resolves each image candidate URL of a srcset attribute
// against base, keeping its descriptor: "url descriptor, url descriptor".
func resolveSrcset(base *url.URL, srcset string) string {
	cands := srcsetCandidates(srcset)
	out := make([]string, 0, len(cands))
	for _, c := range cands {
		s := absURL(base, c.url)
		if c.descriptor != "" {
			s += " " + c.descriptor
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

type srcsetCandidate struct{ url, descriptor string }

// srcsetCandidates splits a srcset attribute as browsers do, closely
// enough for real values: a URL is a run of non-space characters without
// trailing commas (so it may contain commas), its descriptors run up to
// the next comma.
func srcsetCandidates(srcset string) []srcsetCandidate {
	var out []srcsetCandidate
	s := srcset
	for {
		s = strings.TrimLeft(s, " \t\n\r\f,")
		if s == "" {
			return out
		}
		end := strings.IndexAny(s, " \t\n\r\f")
		if end < 0 {
			end = len(s)
		}
		c := srcsetCandidate{url: s[:end]}
		s = s[end:]
		if trimmed := strings.TrimRight(c.url, ","); trimmed != c.url {
			c.url = trimmed // "a.jpg," ends the candidate
		} else if i := strings.IndexByte(s, ','); i >= 0 {
			c.descriptor, s = s[:i], s[i+1:]
		} else {
			c.descriptor, s = s, ""
		}
		c.descriptor = collapseSpace(c.descriptor)
		out = append(out, c)
	}
}
