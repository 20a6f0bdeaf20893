// Package charset turns the documents newsdesk reads from outside (feeds,
// OPML subscription lists, the article pages of full-text sources) into
// clean UTF-8, whatever charset they arrived in: it is the one place that
// sniffs byte order marks, reads an XML declaration's, an HTML <meta>'s or
// a Content-Type's charset label and transcodes with golang.org/x/text.
//
// It must not parse the documents beyond their XML declaration or the
// <meta> prescan of an HTML page's first 1024 bytes, nor know HTTP or any
// feed format: its callers hand it bytes and a label.
package charset

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// UnsupportedError is the error for a document in a charset that
// newsdesk cannot decode.
type UnsupportedError struct {
	Label string // the charset label the document gave
}

func (e *UnsupportedError) Error() string { return fmt.Sprintf("unsupported encoding %q", e.Label) }

// ToUTF8 returns body as clean UTF-8, whatever it arrived in; contentType
// is the HTTP Content-Type the body came with, or "".
//
// gofeed and encoding/xml honour only the XML declaration, so a charset
// named only in the HTTP header, a UTF-16 body or an unknown label
// ("windows_1251") fails the whole document. ToUTF8 decodes the body
// itself, once, in this order of trust: a byte order mark (or the
// zero-byte pattern of UTF-16/32), the XML declaration, the Content-Type
// charset, UTF-8. Whenever it decodes, it rewrites the declaration to
// encoding="utf-8" so that an XML parser does not decode a second time. A
// body that is already valid UTF-8 is never transcoded from a single-byte
// charset: real windows-1251 or latin-1 text is practically never valid
// UTF-8, while documents that are UTF-8 but labelled otherwise are common.
//
// Finally invalid UTF-8 becomes U+FFFD and the C0 control characters that
// XML forbids are dropped, so that one bad byte does not fail the
// document. Line breaks are kept, so line numbers stay right.
func ToUTF8(body []byte, contentType string) ([]byte, error) {
	if enc, bom := sniffUnicode(body); enc != nil {
		out, err := enc.NewDecoder().Bytes(body[bom:])
		if err != nil {
			return nil, fmt.Errorf("decode utf-16/32 body: %w", err)
		}
		return cleanUTF8(declareUTF8(out)), nil
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))

	if label := declaredEncoding(body); label != "" {
		out, err := decode(body, label, headerCharset(contentType))
		if err != nil {
			return nil, err
		}
		if !isUTF8Label(label) {
			out = declareUTF8(out)
		}
		return cleanUTF8(out), nil
	}
	if cs := headerCharset(contentType); cs != "" && !isUTF8Label(cs) && !utf8.Valid(body) {
		if enc := lookupEncoding(cs); enc != nil && !isUnicodeLabel(cs) {
			out, err := enc.NewDecoder().Bytes(body)
			if err != nil {
				return nil, fmt.Errorf("decode %s body: %w", cs, err)
			}
			return cleanUTF8(out), nil
		}
	}
	return cleanUTF8(body), nil
}

// NewReader returns the rest of an XML document whose declaration names
// the charset label, as clean UTF-8; it is an xml.Decoder's CharsetReader.
// It decodes by the rules of ToUTF8: a document that is valid UTF-8 stays
// as it is whatever it declares, and an unknown label is an
// *UnsupportedError.
func NewReader(label string, input io.Reader) (io.Reader, error) {
	body, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	out, err := decode(body, label, "")
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(cleanUTF8(out)), nil
}

// decode returns body, which its XML declaration says is in the charset
// label, as UTF-8; when x/text does not know label, fallback (the
// Content-Type's charset) is tried. Mislabelled UTF-8, plain ASCII and a
// "utf-16" declaration on a body whose bytes are plainly not UTF-16 (which
// sniffUnicode would have caught) are read as UTF-8.
func decode(body []byte, label, fallback string) ([]byte, error) {
	if isUTF8Label(label) || utf8.Valid(body) || isUnicodeLabel(label) {
		return body, nil
	}
	enc := lookupEncoding(label)
	if enc == nil {
		enc = lookupEncoding(fallback)
	}
	if enc == nil {
		return nil, &UnsupportedError{Label: label}
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, fmt.Errorf("decode %s body: %w", label, err)
	}
	return out, nil
}

// sniffUnicode recognises UTF-16 and UTF-32 bodies by their byte order mark
// or, without one, by the zero bytes around the leading "<" or whitespace.
// It returns the decoder and the length of the mark to skip.
func sniffUnicode(b []byte) (encoding.Encoding, int) {
	switch {
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 4
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 4
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 2
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 2
	case len(b) < 4:
		return nil, 0
	case b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0:
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 0
	case b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 0
	case b[0] == 0 && b[1] != 0 && b[2] == 0 && b[3] != 0:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 0
	case b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 0
	}
	return nil, 0
}

// xmlDeclEncoding matches the encoding pseudo-attribute of a leading XML
// declaration; [^>] keeps the match inside the declaration.
var xmlDeclEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']`)

// declPrefix bounds how far into the body the XML declaration is looked for.
const declPrefix = 512

// declaredEncoding returns the label of the XML declaration, or "".
func declaredEncoding(body []byte) string {
	m := xmlDeclEncoding.FindSubmatch(body[:min(len(body), declPrefix)])
	if m == nil {
		return ""
	}
	return strings.TrimSpace(string(m[1]))
}

// declareUTF8 rewrites the label of the XML declaration, if any, to utf-8,
// for a body that has just been decoded to UTF-8.
func declareUTF8(body []byte) []byte {
	loc := xmlDeclEncoding.FindSubmatchIndex(body[:min(len(body), declPrefix)])
	if loc == nil {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:loc[2]]...)
	out = append(out, "utf-8"...)
	return append(out, body[loc[3]:]...)
}

// headerCharset returns the charset parameter of a Content-Type, or "".
func headerCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err == nil {
		return strings.TrimSpace(params["charset"])
	}
	// Broken header ("text/xml; charset=windows-1251;"): look for it by
	// hand. The search folds ASCII case only, so indexes into the lowered
	// copy stay valid in the original whatever other bytes it holds.
	i := strings.Index(asciiLower(contentType), "charset=")
	if i < 0 {
		return ""
	}
	cs := contentType[i+len("charset="):]
	if j := strings.IndexAny(cs, "; "); j >= 0 {
		cs = cs[:j]
	}
	return strings.Trim(cs, `"'`)
}

// asciiLower lowers ASCII letters only, keeping every byte where it was.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isUTF8Label(label string) bool {
	l := strings.ToLower(strings.TrimSpace(label))
	return l == "utf-8" || l == "utf8" || l == "unicode-1-1-utf-8"
}

// isUnicodeLabel reports whether label names UTF-16 or UTF-32, which
// sniffUnicode would have caught had the body really been in them.
func isUnicodeLabel(label string) bool {
	l := strings.ToLower(strings.TrimSpace(label))
	return strings.HasPrefix(l, "utf-16") || strings.HasPrefix(l, "utf-32") ||
		strings.HasPrefix(l, "ucs-") || l == "unicode" || l == "iso-10646-ucs-2"
}

// lookupEncoding finds the decoder for a charset label: the WHATWG names
// browsers accept first, then the IANA registry, each also with
// underscores read as hyphens ("windows_1251"). It returns nil when the
// label is unknown or names a charset x/text cannot decode.
func lookupEncoding(label string) encoding.Encoding {
	label = strings.ToLower(strings.TrimSpace(label))
	if label == "" {
		return nil
	}
	if alias, ok := labelAliases[label]; ok {
		label = alias
	}
	names := []string{label}
	if alt := strings.ReplaceAll(label, "_", "-"); alt != label {
		names = append(names, alt)
	}
	for _, n := range names {
		if e, err := htmlindex.Get(n); err == nil {
			return e
		}
	}
	for _, n := range names {
		if e, err := ianaindex.IANA.Encoding(n); err == nil && e != nil {
			return e
		}
	}
	return nil
}

// labelAliases are labels seen in feeds that neither WHATWG nor IANA know:
// Python's codec names, which feed generators written in Python emit.
var labelAliases = map[string]string{
	"ms-ansi":      "windows-1252",
	"ms-ee":        "windows-1250",
	"ms-cyrl":      "windows-1251",
	"ms-greek":     "windows-1253",
	"ms-turk":      "windows-1254",
	"ms-hebr":      "windows-1255",
	"ms-arab":      "windows-1256",
	"winbaltrim":   "windows-1257",
	"cp874":        "windows-874",
	"macroman":     "macintosh",
	"maccyrillic":  "x-mac-cyrillic",
	"mac-cyrillic": "x-mac-cyrillic",
}

// cleanUTF8 replaces each run of invalid UTF-8 with U+FFFD and drops the
// characters XML 1.0 forbids (C0 controls other than tab, newline and
// carriage return; U+FFFE and U+FFFF). The common clean body is returned
// as is, without copying.
func cleanUTF8(b []byte) []byte {
	if utf8.Valid(b) && !hasForbidden(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	invalid := false
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			if !invalid {
				out = utf8.AppendRune(out, utf8.RuneError)
			}
			invalid = true
			b = b[1:]
			continue
		}
		invalid = false
		if !forbiddenRune(r) {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

func hasForbidden[T string | []byte](b T) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return true
		}
		// U+FFFE and U+FFFF are EF BF BE and EF BF BF.
		if c == 0xEF && i+2 < len(b) && b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
			return true
		}
	}
	return false
}

func forbiddenRune(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF
}

// StripControls drops the characters XML forbids from a string and makes
// it valid UTF-8; for text decoded from escapes (a JSON "\u0001", an XML
// "&#1;"), which ToUTF8 never saw.
func StripControls(s string) string {
	// A byte scan: in valid UTF-8 a forbidden character is a byte below
	// 0x20 or EF BF BE/BF, and decoding runes costs twice as much on
	// Cyrillic text, where every field is checked.
	if !hasForbidden(s) && utf8.ValidString(s) {
		return s
	}
	return string(cleanUTF8([]byte(s)))
}
