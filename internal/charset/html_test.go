package charset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func TestHTML(t *testing.T) {
	const text = "Кремль заявил, что переговоры продолжатся"
	page := func(meta string) string {
		return `<!DOCTYPE html><html><head>` + meta + `<title>t</title></head><body><p>` + text + `</p></body></html>`
	}
	metaCharset := func(cs string) string { return `<meta charset="` + cs + `">` }
	metaContent := func(cs string) string {
		return `<meta http-equiv="Content-Type" content="text/html; charset=` + cs + `">`
	}
	late := func(meta string) string { // the <meta> past the 1024-byte prescan
		return `<!DOCTYPE html><html><head><!--` + strings.Repeat("x", 1100) + `-->` + meta + `</head><body><p>` + text + `</p></body></html>`
	}
	cp1251 := func(s string) []byte { return encode(t, charmap.Windows1251, s) }
	koi8r := func(s string) []byte { return encode(t, charmap.KOI8R, s) }
	latin1 := func(s string) []byte { return encode(t, charmap.ISO8859_1, s) }

	tests := []struct {
		name        string
		body        []byte
		contentType string
		want        string // the decoded page
		label       string
	}{
		{"utf-8 as is", []byte(page("")), "", page(""), "utf-8"},
		{"utf-8 bom", append([]byte("\xef\xbb\xbf"), page("")...), "", page(""), "utf-8"},
		{"utf-8 bom beats header and meta", append([]byte("\xef\xbb\xbf"), page(metaCharset("koi8-r"))...), "text/html; charset=windows-1251", page(metaCharset("koi8-r")), "utf-8"},
		{"utf-16le bom", encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), page("")), "text/html; charset=windows-1251", page(""), "utf-16le"},
		{"utf-16be bom", encode(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), page("")), "", page(""), "utf-16be"},
		{"windows-1251 in the header only", cp1251(page("")), "text/html; charset=windows-1251", page(""), "windows-1251"},
		{"koi8-r in the header only", koi8r(page("")), "text/html;charset=KOI8-R", page(""), "koi8-r"},
		{"header label with underscore", cp1251(page("")), "text/html; charset=windows_1251", page(""), "windows-1251"},
		{"broken header", cp1251(page("")), "text/html; charset=windows-1251;", page(""), "windows-1251"},
		{"windows-1251 in meta charset only", cp1251(page(metaCharset("windows-1251"))), "text/html", page(metaCharset("windows-1251")), "windows-1251"},
		{"koi8-r in meta http-equiv only", koi8r(page(metaContent("koi8-r"))), "", page(metaContent("koi8-r")), "koi8-r"},
		{"header beats meta", koi8r(page(metaCharset("windows-1251"))), "text/html; charset=koi8-r", page(metaCharset("windows-1251")), "koi8-r"},
		{"header lies about utf-8, meta tells", cp1251(page(metaCharset("windows-1251"))), "text/html; charset=utf-8", page(metaCharset("windows-1251")), "windows-1251"},
		{"unknown header label, meta tells", koi8r(page(metaCharset("koi8-r"))), "text/html; charset=x-martian", page(metaCharset("koi8-r")), "koi8-r"},
		{"valid utf-8 beats a header", []byte(page("")), "text/html; charset=windows-1251", page(""), "utf-8"},
		{"valid utf-8 beats meta", []byte(page(metaCharset("koi8-r"))), "", page(metaCharset("koi8-r")), "utf-8"},
		{"meta after 1024 bytes is not seen", cp1251(late(metaCharset("windows-1251"))), "", charmapString(t, charmap.Windows1252, cp1251(late(metaCharset("windows-1251")))), "windows-1252"},
		{"no declaration: windows-1252", latin1("<p>Café</p>"), "", "<p>Café</p>", "windows-1252"},
		{"utf-8 everywhere, one bad byte", []byte("<p>Café \xff ok</p>"), "text/html; charset=utf-8", "<p>Café \ufffd ok</p>", "utf-8"},
		{"meta utf-8, one bad byte", []byte(page(metaCharset("utf-8")) + "\xff"), "", page(metaCharset("utf-8")) + "\ufffd", "utf-8"},
		{"controls dropped", []byte("<p>a\x00b\x01c</p>"), "", "<p>abc</p>", "utf-8"},
		{"empty", nil, "", "", "utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, label, err := HTML(tt.body, tt.contentType)
			if err != nil {
				t.Fatalf("HTML() error = %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("HTML() = %q, want %q", got, tt.want)
			}
			if label != tt.label {
				t.Errorf("HTML() label = %q, want %q", label, tt.label)
			}
		})
	}
}

// TestHTMLPages runs HTML on real pages: miniflux's windows-1251 and gb2312
// pages (charset only in <meta http-equiv>), its 1024-byte prescan cases and
// W3C byte-stream tests. Where W3C expects the header to win over a body
// that is valid UTF-8, newsdesk keeps the UTF-8 (see HTML).
func TestHTMLPages(t *testing.T) {
	tests := []struct {
		file, contentType string
		label             string
		contains          string
	}{
		{"windows_1251.html", "text/html", "windows-1251", "изначально проектировалась"},
		{"windows_1251.html", "text/html; charset=utf-8", "windows-1251", "изначально проектировалась"},
		{"gb2312.html", "", "gbk", "中国"},
		{"iso-8859-1.html", "", "windows-1252", "<p>Café</p>"},
		{"iso-8859-1.html", "text/html; charset=iso-8859-1", "windows-1252", "<p>Café</p>"},
		{"iso-8859-1-meta-after-1024.html", "", "windows-1252", "<p>Café</p>"},
		{"utf8-meta-after-1024.html", "", "utf-8", "<p>Café</p>"},
		{"HTTP-vs-meta-charset.html", "text/html; charset=iso-8859-15", "utf-8", "class='ýäè'"},
		{"meta-charset-attribute.html", "", "utf-8", "class='ýäè'"},
		{"UTF-8-BOM-vs-meta-charset.html", "", "utf-8", "class='ýäè'"},
		{"UTF-16LE-BOM.html", "text/html; charset=iso-8859-1", "utf-16le", "class='ÃœÃ€Ãš'"},
		{"UTF-16BE-BOM.html", "", "utf-16be", "class='ÃœÃ€Ãš'"},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.contentType, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "html", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, label, err := HTML(body, tt.contentType)
			if err != nil {
				t.Fatalf("HTML() error = %v", err)
			}
			if label != tt.label {
				t.Errorf("HTML() label = %q, want %q", label, tt.label)
			}
			if !utf8.Valid(got) || bytes.HasPrefix(got, []byte("\xef\xbb\xbf")) {
				t.Errorf("HTML() is not UTF-8 without a BOM: %q", got[:min(len(got), 16)])
			}
			if !bytes.Contains(got, []byte(tt.contains)) {
				t.Errorf("HTML() does not contain %q", tt.contains)
			}
		})
	}
}

// charmapString decodes b from e, the way a test expects HTML to.
func charmapString(t *testing.T, e *charmap.Charmap, b []byte) string {
	t.Helper()
	out, err := e.NewDecoder().Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
