package fetcher

import (
	"bytes"
	"net/url"
	"slices"
	"strings"

	xhtml "golang.org/x/net/html"
)

// fastTidy writes to out what tidyHTML returns for s, without building a
// tree, and reports whether it could: it reads s once and gives up (false,
// out half written) at anything whose tree is not plain to see from its
// tags, and tidyHTML then parses. What it takes is the markup news items
// are made of: the elements of fastElements, each start tag closed by its
// own end tag in order (or left open at the end, where the parser closes
// it), attributes once each, text with character references, and script
// or style elements whose text holds no "<". Comments, doctypes, other
// elements, misnested tags and anything the parser would reopen, move or
// close on its own are the parser's. s has no control characters
// (cleanHTML strips them first).
//
// For what it takes, the HTML parser (golang.org/x/net/html, in body) makes
// one element per start tag and one text node per run of text, and Render
// writes them back as fastTidy does: names and attribute names in lower
// case, attribute values quoted (those of formatting elements sorted), text and values decoded and escaped
// again, void elements as "<br/>". The differential tests hold it to
// that.
func fastTidy(out *bytes.Buffer, s string, base *url.URL) bool {
	var open [maxFastDepth]*fastElement
	t := tidyScanner{s: s, base: base, out: out, open: open[:0]}
	return t.run()
}

// maxFastDepth is how deeply fastTidy nests elements before it leaves the
// markup to the parser.
const maxFastDepth = 32

// maxFastAttrs is how many attributes a tag fastTidy takes may have.
const maxFastAttrs = 16

// elemRule is what the HTML parser does at an element's start tag (the
// "in body" insertion mode), as far as fastTidy needs to know.
type elemRule uint8

const (
	ruleInline     elemRule = iota + 1 // nothing but insert it
	ruleFormatting                     // an active formatting element: not inside itself
	ruleBlock                          // closes an open <p> first
	ruleHeading                        // closes an open <p>, and a heading it would be directly in
	ruleListItem                       // closes an open <li>: only directly in <ul> or <ol>
	ruleVoid                           // no content, no end tag
	ruleVoidBlock                      // <hr>: void, closes an open <p>
	ruleRawText                        // <script>, <style>: text up to the end tag, not decoded
)

type fastElement struct {
	name string
	rule elemRule
}

// fastElements are the elements fastTidy takes, by lower-case name. An
// element whose start or end tag the parser treats in any other way
// (tables, forms, lists of definitions, pre, foreign content, raw text
// that may hold markup) is not here.
var fastElements = func() map[string]*fastElement {
	m := map[string]*fastElement{}
	add := func(rule elemRule, names ...string) {
		for _, n := range names {
			m[n] = &fastElement{name: n, rule: rule}
		}
	}
	add(ruleInline, "abbr", "acronym", "bdi", "bdo", "cite", "del", "dfn", "ins", "kbd",
		"mark", "q", "samp", "span", "sub", "sup", "time", "var")
	add(ruleFormatting, "a", "b", "big", "code", "em", "font", "i", "s", "small", "strike",
		"strong", "tt", "u")
	add(ruleBlock, "address", "article", "aside", "blockquote", "center", "details", "div",
		"figcaption", "figure", "footer", "header", "hgroup", "main", "nav", "ol", "p",
		"section", "summary", "ul")
	add(ruleHeading, "h1", "h2", "h3", "h4", "h5", "h6")
	add(ruleListItem, "li")
	add(ruleVoid, "br", "img", "wbr")
	add(ruleVoidBlock, "hr")
	add(ruleRawText, "script", "style")
	return m
}()

type tagAttr struct{ key, val string }

type tidyScanner struct {
	s     string
	base  *url.URL
	out   *bytes.Buffer
	open  []*fastElement // the open elements, innermost last
	attrs [maxFastAttrs]tagAttr
}

func (t *tidyScanner) run() bool {
	text := 0 // where the text not yet written starts
	for i := 0; ; {
		j := strings.IndexByte(t.s[i:], '<')
		if j < 0 || i+j+1 >= len(t.s) {
			break
		}
		i += j
		switch c := t.s[i+1]; {
		case c == '/' && i+2 < len(t.s) && isASCIILetter(t.s[i+2]), isASCIILetter(c):
		case c == '/' || c == '!' || c == '?':
			return false // a comment, a doctype or an end tag the parser drops
		default:
			i++ // a "<" that starts no tag is text
			continue
		}
		t.writeText(t.s[text:i])
		end, ok := t.tag(i)
		if !ok {
			return false
		}
		i, text = end, end
	}
	t.writeText(t.s[text:])
	for k := len(t.open) - 1; k >= 0; k-- {
		t.writeEndTag(t.open[k].name)
	}
	return true
}

// tag reads the start or end tag at s[i] and writes it; it returns where
// the tag (for script and style, their end tag) ends.
func (t *tidyScanner) tag(i int) (int, bool) {
	if t.s[i+1] == '/' {
		return t.endTag(i + 2)
	}
	name, j := readName(t.s, i+1)
	e := fastElements[name]
	if e == nil {
		if e = fastElements[strings.ToLower(name)]; e == nil {
			return 0, false
		}
	}
	j, selfClosing, nattrs, ok := t.readAttrs(j)
	if !ok || !t.fits(e) || selfClosing && e.rule != ruleVoid && e.rule != ruleVoidBlock {
		return 0, false
	}
	t.writeStartTag(e, nattrs)
	switch e.rule {
	case ruleVoid, ruleVoidBlock:
		return j, true
	case ruleRawText:
		return t.rawText(e.name, j)
	}
	if len(t.open) == cap(t.open) {
		return 0, false
	}
	t.open = append(t.open, e)
	return j, true
}

// fits reports whether the parser puts e where its start tag is, inside
// the current element, closing nothing.
func (t *tidyScanner) fits(e *fastElement) bool {
	switch e.rule {
	case ruleFormatting:
		return !t.isOpen(e.name)
	case ruleBlock, ruleVoidBlock:
		return !t.isOpen("p")
	case ruleHeading:
		if n := len(t.open); n > 0 && t.open[n-1].rule == ruleHeading {
			return false
		}
		return !t.isOpen("p")
	case ruleListItem:
		n := len(t.open)
		return n > 0 && (t.open[n-1].name == "ul" || t.open[n-1].name == "ol")
	}
	return true
}

func (t *tidyScanner) isOpen(name string) bool {
	for _, e := range t.open {
		if e.name == name {
			return true
		}
	}
	return false
}

// endTag reads the end tag whose name starts at s[i]: "</name>", which
// must close the current element.
func (t *tidyScanner) endTag(i int) (int, bool) {
	name, j := readName(t.s, i)
	j = skipSpace(t.s, j)
	n := len(t.open)
	if j >= len(t.s) || t.s[j] != '>' || n == 0 || !strings.EqualFold(name, t.open[n-1].name) {
		return 0, false
	}
	t.writeEndTag(t.open[n-1].name)
	t.open = t.open[:n-1]
	return j + 1, true
}

// readAttrs reads the attributes of a start tag from s[i], just after its
// name, up to and including its ">", into t.attrs.
func (t *tidyScanner) readAttrs(i int) (end int, selfClosing bool, n int, ok bool) {
	s := t.s
	for {
		j := skipSpace(s, i)
		switch {
		case j >= len(s):
			return 0, false, 0, false
		case s[j] == '>':
			return j + 1, false, n, true
		case s[j] == '/':
			if j+1 < len(s) && s[j+1] == '>' {
				return j + 2, true, n, true
			}
			return 0, false, 0, false
		case j == i || n == maxFastAttrs:
			return 0, false, 0, false // no space before the attribute
		}
		key, k := readAttrName(s, j)
		if k == j {
			return 0, false, 0, false
		}
		val, next, ok := readAttrValue(s, k)
		if !ok {
			return 0, false, 0, false
		}
		key = strings.ToLower(key)
		for _, a := range t.attrs[:n] {
			if a.key == key {
				return 0, false, 0, false // the tokenizer drops the second
			}
		}
		if val, ok = attrText(val); !ok {
			return 0, false, 0, false
		}
		t.attrs[n].key, t.attrs[n].val = key, val
		n++
		i = next
	}
}

// readAttrValue reads the value of an attribute whose name ends at s[i]:
// `="v"`, `='v'`, `=v` or nothing, and returns it as written.
func readAttrValue(s string, i int) (val string, end int, ok bool) {
	j := skipSpace(s, i)
	if j >= len(s) || s[j] != '=' {
		return "", i, true
	}
	j = skipSpace(s, j+1)
	if j >= len(s) {
		return "", 0, false
	}
	switch q := s[j]; q {
	case '"', '\'':
		k := strings.IndexByte(s[j+1:], q)
		if k < 0 {
			return "", 0, false
		}
		return s[j+1 : j+1+k], j + 2 + k, true
	case '>':
		return "", 0, false
	}
	k := j
	for k < len(s) && !isHTMLSpace(s[k]) && s[k] != '>' {
		k++
	}
	val = s[j:k]
	return val, k, !strings.ContainsAny(val, "\"'<=`")
}

// rawText reads the text of a script or style element from s[i] to its
// end tag and writes both. Text that holds a "<" is the parser's: the
// tokenizer has escape states for it.
func (t *tidyScanner) rawText(name string, i int) (int, bool) {
	k := strings.IndexByte(t.s[i:], '<')
	if k < 0 {
		return 0, false
	}
	if !strings.HasPrefix(t.s[i+k:], "</") {
		return 0, false
	}
	end, j := readName(t.s, i+k+2)
	if !strings.EqualFold(end, name) || j >= len(t.s) || t.s[j] != '>' {
		return 0, false
	}
	t.out.WriteString(convertNewlines(t.s[i : i+k]))
	t.writeEndTag(name)
	return j + 1, true
}

func (t *tidyScanner) writeStartTag(e *fastElement, nattrs int) {
	if e.rule == ruleFormatting {
		// The parser sorts the attributes of a formatting element (to
		// compare elements quickly), and Render writes them so.
		slices.SortFunc(t.attrs[:nattrs], func(a, b tagAttr) int { return strings.Compare(a.key, b.key) })
	}
	t.out.WriteByte('<')
	t.out.WriteString(e.name)
	for _, a := range t.attrs[:nattrs] {
		val := a.val
		if t.base != nil && urlAttrs[a.key] {
			if a.key == "srcset" {
				val = resolveSrcset(t.base, val)
			} else {
				val = absURL(t.base, val)
			}
		}
		t.out.WriteByte(' ')
		t.out.WriteString(a.key)
		t.out.WriteString(`="`)
		escapeHTML(t.out, val)
		t.out.WriteByte('"')
	}
	if e.rule == ruleVoid || e.rule == ruleVoidBlock {
		t.out.WriteString("/>")
	} else {
		t.out.WriteByte('>')
	}
}

func (t *tidyScanner) writeEndTag(name string) {
	t.out.WriteString("</")
	t.out.WriteString(name)
	t.out.WriteByte('>')
}

// writeText writes text as written in the markup decoded and escaped
// again, as the tokenizer reads it and Render writes it.
func (t *tidyScanner) writeText(raw string) {
	escapeHTML(t.out, htmlText(raw))
}

// htmlText is text as written in HTML as the tokenizer reads it: line
// breaks made "\n", character references decoded.
func htmlText(raw string) string {
	raw = convertNewlines(raw)
	if strings.IndexByte(raw, '&') < 0 {
		return raw // UnescapeString would look for it rune by rune
	}
	return xhtml.UnescapeString(raw)
}

// attrText is an attribute value as written as the tokenizer reads it,
// and whether fastTidy can know that: in a value the tokenizer decodes a
// reference without ";" differently from text ("&copy=" stays, "&copyx;"
// is not "©x;"), so a value is taken only when each "&" starts a numeric
// reference, a reference that means nothing either way, or one of the few
// everyone writes with its ";".
func attrText(raw string) (string, bool) {
	for i := strings.IndexByte(raw, '&'); i >= 0; {
		j := i + 1
		for j < len(raw) && isAlnum(raw[j]) {
			j++
		}
		switch {
		case j == i+1: // "&#..." or a lone "&"
		case j < len(raw) && raw[j] == ';':
			switch raw[i+1 : j] {
			case "amp", "lt", "gt", "quot", "apos", "nbsp":
			default:
				return "", false
			}
		case xhtml.UnescapeString(raw[i:j]) != raw[i:j]:
			return "", false
		}
		k := strings.IndexByte(raw[j:], '&')
		if k < 0 {
			break
		}
		i = j + k
	}
	return htmlText(raw), true
}

// convertNewlines makes "\r\n" and "\r" "\n", as the tokenizer does.
func convertNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// htmlEscaped are the characters Render and the sanitizer escape.
const htmlEscaped = "&'<>\"\r"

// escapeHTML writes s escaped as golang.org/x/net/html escapes text and
// attribute values (EscapeString), without making a string of it.
func escapeHTML(w *bytes.Buffer, s string) {
	for {
		i := strings.IndexAny(s, htmlEscaped)
		if i < 0 {
			w.WriteString(s)
			return
		}
		w.WriteString(s[:i])
		switch s[i] {
		case '&':
			w.WriteString("&amp;")
		case '\'':
			w.WriteString("&#39;")
		case '<':
			w.WriteString("&lt;")
		case '>':
			w.WriteString("&gt;")
		case '"':
			w.WriteString("&#34;")
		case '\r':
			w.WriteString("&#13;")
		}
		s = s[i+1:]
	}
}

// readName reads a run of ASCII letters and digits from s[i] and returns
// it and where it ends. A name the tokenizer would read on past that end
// (into "-", ":" or a quote) is returned empty, so that it matches
// nothing.
func readName(s string, i int) (string, int) {
	j := i
	for j < len(s) && isAlnum(s[j]) {
		j++
	}
	if j < len(s) && !isHTMLSpace(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=' {
		return "", i
	}
	return s[i:j], j
}

// readAttrName reads an attribute name from s[i]: a letter, then letters,
// digits and "-_.:" ("data-src", "aria-label", "xml:lang"). A name the
// tokenizer would read on past that end is returned empty.
func readAttrName(s string, i int) (string, int) {
	if i >= len(s) || !isASCIILetter(s[i]) {
		return "", i
	}
	j := i + 1
	for j < len(s) && (isAlnum(s[j]) || strings.IndexByte("-_.:", s[j]) >= 0) {
		j++
	}
	if j < len(s) && !isHTMLSpace(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=' {
		return "", i
	}
	return s[i:j], j
}

func skipSpace(s string, i int) int {
	for i < len(s) && isHTMLSpace(s[i]) {
		i++
	}
	return i
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isAlnum(c byte) bool { return isASCIILetter(c) || '0' <= c && c <= '9' }
