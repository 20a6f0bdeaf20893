package charset

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func TestToUTF8(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="%s"?><rss><channel><title>Привет</title></channel></rss>`
	decl := func(label string) string { return strings.Replace(doc, "%s", label, 1) }
	noDecl := `<?xml version="1.0"?><rss><channel><title>Привет</title></channel></rss>`
	win1251 := func(s string) []byte { return encode(t, charmap.Windows1251, s) }
	koi8r := func(s string) []byte { return encode(t, charmap.KOI8R, s) }
	utf16 := func(e unicode.Endianness, bom unicode.BOMPolicy, s string) []byte {
		return encode(t, unicode.UTF16(e, bom), s)
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
		{"prolog koi8-r", koi8r(decl("KOI8-R")), "", decl("utf-8"), ""},
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
			got, err := ToUTF8(tt.body, tt.contentType)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("ToUTF8() error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ToUTF8() error = %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("ToUTF8() = %q, want %q", got, tt.want)
			}
		})
	}
}

// encode returns s in the charset e.
func encode(t testing.TB, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
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

func TestCleanUTF8KeepsCleanInput(t *testing.T) {
	in := []byte("<rss>clean – текст</rss>")
	if got := cleanUTF8(in); &got[0] != &in[0] {
		t.Error("cleanUTF8 copied a clean body")
	}
	if got := cleanUTF8(bytes.Repeat([]byte{0x01}, 3)); len(got) != 0 {
		t.Errorf("cleanUTF8(controls) = %q, want empty", got)
	}
}

// TestNewReader decodes documents through encoding/xml, as OPML is read.
func TestNewReader(t *testing.T) {
	const doc = "<?xml version=\"1.0\" encoding=\"%s\"?>\n<t>Привет</t>"
	decl := func(e encoding.Encoding, label string) []byte {
		return encode(t, e, strings.Replace(doc, "%s", label, 1))
	}
	tests := []struct {
		name    string
		body    []byte
		want    string
		wantErr string
	}{
		{"windows-1251", decl(charmap.Windows1251, "windows-1251"), "Привет", ""},
		{"koi8-r", decl(charmap.KOI8R, "koi8-r"), "Привет", ""},
		{"python label", decl(charmap.Windows1251, "ms-cyrl"), "Привет", ""},
		{"utf-8 labelled latin-1", []byte(strings.Replace(doc, "%s", "ISO-8859-1", 1)), "Привет", ""},
		{"latin-1", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><t>Caf\xe9</t>"), "Café", ""},
		{"unknown label", decl(charmap.Windows1251, "x-martian"), "", `unsupported encoding "x-martian"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := xml.NewDecoder(bytes.NewReader(tt.body))
			d.CharsetReader = NewReader
			var got string
			err := d.Decode(&got)
			if tt.wantErr != "" {
				var ue *UnsupportedError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Decode() error = %v, want an *UnsupportedError %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Decode() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
