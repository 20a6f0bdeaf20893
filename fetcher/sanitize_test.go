package fetcher

import (
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenBase is the item link the golden inputs are resolved against.
const goldenBase = "https://www.themoscowtimes.com/2026/11/25/moscow-sees-first-heavy-snowfall-a91501"

// TestCleanHTMLGolden runs each testdata/sanitize/*.html through cleanHTML
// and compares the result with the .golden file beside it; -update
// rewrites them. Review a changed golden file like code: it is what
// readers of the republished feeds get.
func TestCleanHTMLGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "sanitize", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/sanitize/*.html")
	}
	base, err := url.Parse(goldenBase)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".html")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := cleanHTML(string(src), base) + "\n"
			golden := strings.TrimSuffix(in, ".html") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("cleanHTML(%s) =\n%s\nwant (%s)\n%s", in, got, golden, want)
			}
			if msg := unsafeHTML(got); msg != "" {
				t.Errorf("cleanHTML(%s): %s", in, msg)
			}
		})
	}
}

func TestResolveSrcset(t *testing.T) {
	base, _ := url.Parse("https://site.example/news/story.html")
	tests := []struct {
		in, want string
	}{
		{"a.jpg", "https://site.example/news/a.jpg"},
		{"a.jpg 1x, /b.jpg 2x", "https://site.example/news/a.jpg 1x, https://site.example/b.jpg 2x"},
		{"  a.jpg   400w ,\n\tb.jpg 800w  ", "https://site.example/news/a.jpg 400w, https://site.example/news/b.jpg 800w"},
		{"a.jpg,b.jpg 2x", "https://site.example/news/a.jpg,b.jpg 2x"}, // one URL with a comma in it, as browsers read it
		{"a.jpg, b.jpg", "https://site.example/news/a.jpg, https://site.example/news/b.jpg"},
		{"https://cdn.example/x.jpg 2x", "https://cdn.example/x.jpg 2x"},
		{",,", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := resolveSrcset(base, tt.in); got != tt.want {
			t.Errorf("resolveSrcset(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCleanHTMLWithoutBase(t *testing.T) {
	// With nothing to resolve against, relative URLs stay relative; a
	// relative srcset is dropped, src stays.
	got := cleanHTML(`<img src="/a.jpg" srcset="/a.jpg 2x" onerror="x()"> <b>AT&T</b>`, nil)
	if want := `<img src="/a.jpg"/> <b>AT&amp;T</b>`; got != want {
		t.Errorf("cleanHTML() = %q, want %q", got, want)
	}
}

func TestCleanHTMLTooDeep(t *testing.T) {
	// The HTML parser refuses more than 512 nested elements; such markup
	// is reduced to its text rather than passed on unbalanced.
	in := strings.Repeat("<div><b>", 300) + "deep &amp; <i>down</i>"
	if got, want := cleanHTML(in, nil), "deep &amp; down"; got != want {
		t.Errorf("cleanHTML(600 nested elements) = %q, want %q", got, want)
	}
}
