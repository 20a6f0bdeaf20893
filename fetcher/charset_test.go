package fetcher

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/newsdesk/newsdesk"
)

func TestToUTF8(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="%s"?><rss><channel><title>Привет</title></channel></rss>`
	decl := func(label string) string { return strings.Replace(doc, "%s", label, 1) }
	noDecl := `<?xml version="1.0"?><rss><channel><title>Привет</title></channel></rss>`
	win1251 := func(s string) []byte {
		b, err := charmap.Windows1251.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	utf16 := func(e unicode.Endianness, bom unicode.BOMPolicy, s string) []byte {
		b, err := unicode.UTF16(e, bom).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	tests := []struct {
		name        string
		body        []byte
		contentType string
		want        string
		wantErr     string
	}{
		{"utf-8 untouched", []byte(noDecl), "", noDecl, ""},
		{"utf-8 bom stripped", append([]byte("\xef\xbb\xbf"), noDecl...), "", noDecl, ""},
		{"prolog windows-1251", win1251(decl("windows-1251")), "", decl("utf-8"), ""},
		{"prolog wins over header", win1251(decl("windows-1251")), "text/xml; charset=koi8-r", decl("utf-8"), ""},
		{"prolog label with underscore", win1251(decl("windows_1251")), "", decl("utf-8"), ""},
		{"python label", win1251(decl("ms-cyrl")), "", decl("utf-8"), ""},
		{"header only", win1251(noDecl), "application/rss+xml; charset=windows-1251", noDecl, ""},
		{"header on utf-8 is ignored", []byte(noDecl), "text/xml; charset=iso-8859-1", noDecl, ""},
		{"prolog lies about utf-8 text", []byte(decl("iso-8859-1")), "", decl("utf-8"), ""},
		{"unknown label on ascii", []byte(`<?xml version="1.0" encoding="x-martian"?><rss/>`), "", `<?xml version="1.0" encoding="utf-8"?><rss/>`, ""},
		{"unknown label, header helps", win1251(decl("x-martian")), "text/xml; charset=cp1251", decl("utf-8"), ""},
		{"unknown label", win1251(decl("x-martian")), "", "", `unsupported encoding "x-martian"`},
		{"utf-16le bom", utf16(unicode.LittleEndian, unicode.UseBOM, decl("utf-16")), "", decl("utf-8"), ""},
		{"utf-16be bom", utf16(unicode.BigEndian, unicode.UseBOM, decl("UTF-16")), "", decl("utf-8"), ""},
		{"utf-16be without bom", utf16(unicode.BigEndian, unicode.IgnoreBOM, noDecl), "", noDecl, ""},
		{"utf-16 label on 8-bit text", []byte(decl("utf-16")), "", decl("utf-8"), ""},
		{"invalid utf-8 replaced", []byte("<t>a\xff\xfeb\xc3</t>"), "", "<t>a\ufffdb\ufffd</t>", ""},
		{"c0 controls dropped", []byte("<t>a\x00b\x01c\x1fd\te\nf\rg\x7f</t>"), "", "<t>abcd\te\nf\rg\x7f</t>", ""},
		{"noncharacters dropped", []byte("<t>a\uffffb\ufffe</t>"), "", "<t>ab</t>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toUTF8(tt.body, tt.contentType)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("toUTF8() error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("toUTF8() error = %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("toUTF8() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHeaderCharset(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"application/rss+xml", ""},
		{"text/xml; charset=windows-1251", "windows-1251"},
		{`text/xml; charset="KOI8-R"`, "KOI8-R"},
		{"text/xml;charset=utf-8;", "utf-8"},
		{"text/xml; charset=windows-1251; charset=koi8-r", "windows-1251"},
	}
	for _, tt := range tests {
		if got := headerCharset(tt.in); got != tt.want {
			t.Errorf("headerCharset(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var (
	feedparserExpectTitle = regexp.MustCompile(`(?m)^Expect:\s*not bozo and feed\['title'\] == u?'((?:[^'\\]|\\.)*)'\s*$`)
	feedparserHeader      = regexp.MustCompile(`(?mi)^Header:\s*Content-type:\s*(.*?)\s*$`)
	pythonByteEscape      = regexp.MustCompile(`\\x([0-9a-fA-F]{2})`)
)

// TestCorporaFeedparserEncoding checks decoded text against the expected
// titles of the Universal Feed Parser's encoding tests: a charset newsdesk
// cannot decode must be an error, never a wrong title.
func TestCorporaFeedparserEncoding(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", "..", "shared", "corpora", "feedparser"))
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		t.Skip("../shared/corpora not found: conformance corpus absent (it ships only beside the project checkout)")
	}
	var files []string
	for _, dir := range []string{"historical-encoding", filepath.Join("tests", "encoding")} {
		m, _ := filepath.Glob(filepath.Join(root, dir, "*.xml"))
		files = append(files, m...)
	}
	var checked, decoded, unsupported int
	for _, path := range files {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := feedparserExpectTitle.FindSubmatch(body)
		if m == nil {
			continue
		}
		checked++
		want, err := strconv.Unquote(`"` + pythonByteEscape.ReplaceAllString(strings.ReplaceAll(string(m[1]), `"`, `\"`), `\u00$1`) + `"`)
		if err != nil {
			t.Fatalf("%s: expected title %q: %v", path, m[1], err)
		}
		contentType := ""
		if h := feedparserHeader.FindSubmatch(body); h != nil {
			contentType = string(h[1])
		}
		rel, _ := filepath.Rel(root, path)
		resp, err := parse(body, contentType, "http://127.0.0.1/", newsdesk.Source{}, fetchNow)
		switch {
		case err != nil && strings.HasPrefix(err.Error(), "unsupported encoding"):
			unsupported++
		case err != nil:
			t.Errorf("%s: parse() error = %v", rel, err)
		case resp.FeedTitle != collapseSpace(want):
			t.Errorf("%s: FeedTitle = %q, want %q", rel, resp.FeedTitle, want)
		default:
			decoded++
		}
	}
	if checked == 0 {
		t.Fatal("no feedparser encoding tests found")
	}
	t.Logf("feedparser encoding tests: %d checked, %d decoded right, %d unsupported charsets", checked, decoded, unsupported)
}

func TestCleanUTF8KeepsCleanInput(t *testing.T) {
	in := []byte("<rss>clean – текст</rss>")
	if got := cleanUTF8(in); &got[0] != &in[0] {
		t.Error("cleanUTF8 copied a clean body")
	}
	if got := cleanUTF8(bytes.Repeat([]byte{0x01}, 3)); len(got) != 0 {
		t.Errorf("cleanUTF8(controls) = %q, want empty", got)
	}
}
