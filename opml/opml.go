// Package opml reads OPML subscription lists, the files feed readers
// export: the feeds they list, each with its title, its folders (the
// enclosing outlines, which an import turns into tags) and its line in
// the file. A list is decoded like a feed, with internal/charset, so it
// may come in any charset a feed can: UTF-8 or UTF-16, windows-1251,
// KOI8-R, latin-1...
//
// It must not decide what an import does with the feeds (ids, duplicates,
// feeds.yaml): that is the importer's. Writing OPML is the publisher's.
package opml

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/charset"
)

// Feed is one feed of an OPML subscription list.
type Feed struct {
	Title   string   // the outline's title, else its text; one line, may be empty
	URL     string   // xmlUrl, trimmed
	Type    string   // the type attribute, usually "rss" or empty
	Folders []string // the names of the enclosing outlines, outermost first; shared with other feeds, so read only
	Line    int      // the outline's line in the OPML file
}

// String names the feed in messages: its title and URL, the URL's
// password redacted.
func (f Feed) String() string {
	u := newsdesk.RedactURL(f.URL)
	if f.Title == "" {
		return strconv.Quote(u)
	}
	return fmt.Sprintf("%q (%s)", f.Title, u)
}

// Parse returns the feeds in an OPML file, in document order. Readers
// disagree on the details, so it takes any outline with an xmlUrl
// attribute (in any letter case) as a feed whatever its type, and any
// other outline as a folder. name is the file name used in errors, which
// give the line: "NAME:LINE: malformed OPML: ...".
func Parse(name string, data []byte) ([]Feed, error) {
	text, err := charset.ToUTF8(data, "")
	if err != nil {
		var ue *charset.UnsupportedError
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("%s: %w: convert the file to UTF-8 (e.g. iconv -f %s -t utf-8) and import that", name, err, ue.Label)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := xml.NewDecoder(bytes.NewReader(text))
	d.Entity = xml.HTMLEntity // &nbsp; and friends, which hand-edited exports have
	// ToUTF8 has rewritten any declaration it decoded by to utf-8; one it
	// could not see still goes through the same rules.
	d.CharsetReader = charset.NewReader
	var p parser
	for {
		line, _ := d.InputPos() // where the next token starts
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line, err = se.Line, errors.New(se.Msg)
			}
			return nil, fmt.Errorf("%s:%d: malformed OPML: %v", name, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := p.start(t, line); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
		case xml.EndElement:
			p.end()
		}
	}
	if !p.sawRoot {
		return nil, fmt.Errorf("%s: not an OPML file: it has no XML elements", name)
	}
	if !p.sawBody {
		return nil, fmt.Errorf("%s: not an OPML subscription list: <opml> has no <body>", name)
	}
	return p.feeds, nil
}

// parser is the state of Parse between tokens: the open elements and the
// feeds found so far.
type parser struct {
	// stack holds, for each open element, the names of the folders it is
	// in, itself included when it is a folder. Feeds share their folder's
	// slice, so that a list of many feeds in deep folders stays as small
	// as its file.
	stack                    [][]string
	feeds                    []Feed
	sawRoot, inBody, sawBody bool
}

// maxDepth bounds how deeply elements may nest. Real lists nest folders
// two or three deep; the bound keeps a hostile file's folder lists (which
// grow with the square of the depth) small.
const maxDepth = 100

// start opens the element t, which starts at line.
func (p *parser) start(t xml.StartElement, line int) error {
	local := strings.ToLower(t.Name.Local)
	if !p.sawRoot {
		p.sawRoot = true
		if local != "opml" {
			return fmt.Errorf("not an OPML file: the root element is <%s>, not <opml>", t.Name.Local)
		}
	}
	if len(p.stack) == maxDepth {
		return fmt.Errorf("not an OPML subscription list: elements nested more than %d deep", maxDepth)
	}
	if local == "body" && len(p.stack) == 1 {
		p.inBody, p.sawBody = true, true
	}
	var folders []string
	if len(p.stack) > 0 {
		folders = p.stack[len(p.stack)-1]
	}
	if p.inBody && local == "outline" {
		folders = p.outline(t, line, folders)
	}
	p.stack = append(p.stack, folders)
	return nil
}

// outline records the outline t, inside folders, as a feed when it has an
// xmlUrl, and returns the folders of the outlines inside it.
func (p *parser) outline(t xml.StartElement, line int, folders []string) []string {
	u := attr(t, "xmlUrl")
	if u == "" {
		// Folders: text is the required attribute; some readers put
		// something else in title.
		name := cmp.Or(newsdesk.OneLine(attr(t, "text")), newsdesk.OneLine(attr(t, "title")))
		if name != "" {
			// Clipped: append copies rather than write into spare room
			// that the feeds of an enclosing folder hold.
			return append(slices.Clip(folders), name)
		}
		return folders
	}
	feed := Feed{Title: cmp.Or(newsdesk.OneLine(attr(t, "title")), newsdesk.OneLine(attr(t, "text"))), URL: u, Type: attr(t, "type"), Folders: slices.Clip(folders), Line: line}
	p.feeds = append(p.feeds, feed)
	return folders
}

// end closes the innermost element; the decoder has checked that it
// matches.
func (p *parser) end() {
	p.stack = p.stack[:len(p.stack)-1]
	if len(p.stack) == 1 {
		p.inBody = false
	}
}

// attr returns the value of the attribute named name in any letter case,
// trimmed: exports have xmlUrl, xmlurl and XMLURL. Namespaced attributes
// (FreshRSS's frss:...) are not OPML's own and are ignored.
func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && strings.EqualFold(a.Name.Local, name) {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}
