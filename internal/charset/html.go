package charset

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// HTML returns an HTML page as clean UTF-8 and the name of the charset it
// was read in; contentType is the HTTP Content-Type the page came with, or
// "". The fetcher calls it on article pages before parsing them.
//
// The order of trust is a byte order mark (or the zero-byte pattern of
// UTF-16/32, as ToUTF8), then the body as it is when it is valid UTF-8
// (ToUTF8's rule: mislabelled UTF-8 is common, windows-1251 text that
// happens to be valid UTF-8 practically unheard of), then the
// Content-Type's charset, then a <meta charset> or <meta http-equiv
// content-type> in the first 1024 bytes (the WHATWG prescan of
// golang.org/x/net/html/charset), else windows-1252 as browsers do. A
// header that names UTF-8 for a body that is not gives way to a <meta>
// naming another charset (a header "utf-8" on a windows-1251 page whose
// <meta> says windows-1251 is read as windows-1251); otherwise, like a
// <meta> naming UTF-8 or a page whose first 1024 bytes are UTF-8, it
// keeps the page UTF-8 with U+FFFD for the bad bytes, as browsers do.
// (x/net does not tell a <meta> naming windows-1252 from its default, so
// such a <meta> does not overrule a "utf-8" header either.)
//
// Unlike browsers, a Content-Type charset does not override a body that is
// valid UTF-8 (the W3C "HTTP vs meta" tests expect it to).
func HTML(body []byte, contentType string) (out []byte, label string, err error) {
	if enc, bom := sniffUnicode(body); enc != nil {
		out, err := enc.NewDecoder().Bytes(body[bom:])
		if err != nil {
			return nil, "", fmt.Errorf("decode utf-16/32 page: %w", err)
		}
		return cleanUTF8(out), unicodeNames[enc], nil
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if utf8.Valid(body) {
		return cleanUTF8(body), "utf-8", nil
	}
	cs := headerCharset(contentType)
	if enc := lookupEncoding(cs); enc != nil && !isUTF8Label(cs) && !isUnicodeLabel(cs) {
		return decodeHTML(body, enc, cs)
	}
	// The header named no charset, or UTF-8 (a lie: the body is not), or
	// one x/text does not know: the page's own <meta>, then the default.
	enc, name, _ := htmlcharset.DetermineEncoding(body, "")
	if name == "utf-8" || (isUTF8Label(cs) && name == "windows-1252") {
		return cleanUTF8(body), "utf-8", nil
	}
	return decodeHTML(body, enc, name)
}

// unicodeNames are the names of the decoders sniffUnicode returns.
var unicodeNames = map[encoding.Encoding]string{
	unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM):    "utf-16be",
	unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM): "utf-16le",
	utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM):          "utf-32be",
	utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM):       "utf-32le",
}

// decodeHTML decodes body from enc, whose label is label.
func decodeHTML(body []byte, enc encoding.Encoding, label string) ([]byte, string, error) {
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, "", fmt.Errorf("decode %s page: %w", label, err)
	}
	return cleanUTF8(out), encodingName(enc, label), nil
}

// encodingName is the WHATWG name of enc, else label lowered.
func encodingName(enc encoding.Encoding, label string) string {
	if n, err := htmlindex.Name(enc); err == nil {
		return n
	}
	return strings.ToLower(strings.TrimSpace(label))
}
