package fetcher

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

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
