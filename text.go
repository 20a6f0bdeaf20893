package newsdesk

import (
	"html"
	"strings"
	"unicode"
)

// HTMLText is the text of an HTML fragment as a reader sees it, on one
// line: tags removed, the contents of script and style elements and of
// comments dropped, character references decoded once, and every run of
// white space collapsed to one space. It is the one rule for turning HTML
// into text: section rules match it, the publisher's snippets and stand-in
// titles show it, and the fetcher makes item and feed titles with it, so a
// rule matches what a reader reads.
//
// The tags of inline elements (inlineTags) stand for nothing, the others
// for a space: "<em>cheer</em>ed" is "cheered", "<p>a</p><p>b</p>" is "a b".
// Tags are read as a browser's tokenizer reads them, closely enough for
// feed text: a ">" inside a quoted attribute value does not end the tag, a
// "<" that starts no tag ("a < b", "<3") is text, and a tag cut off by the
// end of the fragment is dropped. It uses no HTML parser, so that the root
// package needs the standard library only.
func HTMLText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.Join(strings.Fields(s), " ")
	}
	var b strings.Builder
	b.Grow(len(s))
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(html.UnescapeString(s))
			break
		}
		b.WriteString(html.UnescapeString(s[:i]))
		s = s[i:]
		name, end, sep := readMarkup(s)
		if end == 0 { // a "<" that starts no tag
			b.WriteByte('<')
			s = s[1:]
			continue
		}
		if sep {
			b.WriteByte(' ')
		}
		s = s[end:]
		if name == "script" || name == "style" {
			s = skipRawText(s, name)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// inlineTags are the HTML elements whose tags do not break a word.
var inlineTags = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true,
	"code": true, "data": true, "dfn": true, "em": true, "font": true, "i": true,
	"kbd": true, "mark": true, "q": true, "s": true, "samp": true, "small": true,
	"span": true, "strike": true, "strong": true, "sub": true, "sup": true,
	"time": true, "tt": true, "u": true, "var": true, "wbr": true,
}

// readMarkup reads the markup at the start of s, which starts with "<":
// a start or end tag, a comment, a doctype or a processing instruction.
// It returns the length of the markup (0 when the "<" starts none and is
// text; all of s when the markup is not closed), the lower-case name of a
// start tag (empty for anything else) and whether the markup stands for a
// space.
func readMarkup(s string) (name string, end int, sep bool) {
	if len(s) < 2 {
		return "", 0, false
	}
	switch c := s[1]; {
	case c == '!' && strings.HasPrefix(s, "<!--"):
		if i := strings.Index(s[4:], "-->"); i >= 0 {
			return "", 4 + i + 3, false
		}
		return "", len(s), false
	case c == '!' || c == '?':
		return "", closeAt(s, 2), false
	case c == '/':
		if len(s) == 2 { // "</" at the end is text
			return "", 0, false
		}
		if s[2] == '>' { // "</>" is dropped
			return "", 3, false
		}
		if !isLetter(s[2]) {
			return "", closeAt(s, 2), false // a bogus comment
		}
		n, end := readTag(s, 2)
		return "", end, !inlineTags[n]
	case isLetter(c):
		n, end := readTag(s, 1)
		return n, end, !inlineTags[n]
	}
	return "", 0, false
}

// closeAt is the end of markup in s that runs from from to the next ">",
// or all of s.
func closeAt(s string, from int) int {
	if i := strings.IndexByte(s[from:], '>'); i >= 0 {
		return from + i + 1
	}
	return len(s)
}

// readTag reads a tag whose name starts at s[from]: its name in lower case
// and its end. It follows the attribute states of the HTML tokenizer: a
// value follows "=" after an attribute's name, and a quoted value may hold
// ">"; an "=" or a quote where a name is expected is part of the name.
func readTag(s string, from int) (string, int) {
	i := from
	for i < len(s) && !isSpace(s[i]) && s[i] != '/' && s[i] != '>' {
		i++
	}
	name := strings.ToLower(s[from:i])
	const (
		beforeName = iota
		inName
		afterName
		beforeValue
	)
	state := beforeName
	for i < len(s) {
		c := s[i]
		switch {
		case c == '>':
			return name, i + 1
		case isSpace(c):
			if state == inName {
				state = afterName
			}
			i++
		case state == beforeValue:
			if c == '"' || c == '\'' {
				q := strings.IndexByte(s[i+1:], c)
				if q < 0 {
					return name, len(s)
				}
				i += q + 2
			} else {
				for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
					i++
				}
			}
			state = beforeName
		case c == '/':
			state = beforeName
			i++
		case c == '=' && (state == inName || state == afterName):
			state = beforeValue
			i++
		default:
			state = inName
			i++
		}
	}
	return name, len(s)
}

// skipRawText skips the contents of a script or style element, up to its
// end tag, which it leaves in s.
func skipRawText(s, name string) string {
	for off := 0; ; {
		i := strings.Index(s[off:], "</")
		if i < 0 {
			return ""
		}
		i += off
		j := i + 2 + len(name)
		if j <= len(s) && asciiEqualFold(s[i+2:j], name) &&
			(j == len(s) || isSpace(s[j]) || s[j] == '>' || s[j] == '/') {
			return s[i:]
		}
		off = i + 2
	}
}

// asciiEqualFold reports whether a equals the lower-case ASCII b in any
// case; unlike strings.EqualFold, no other letter folds to an ASCII one.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// OneLine makes s fit on one line of a hand-edited file (a feeds.yaml title
// or comment): white space, line breaks included, collapsed to single
// spaces, and invisible characters dropped.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r != ' ' && !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.Join(strings.Fields(s), " "))
}
