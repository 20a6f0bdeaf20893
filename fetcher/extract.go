package fetcher

// Full-text extraction: the article pass of a full_text source (issue 13)
// fetches an item's page, decodes it with charset.HTML and calls extract to
// keep the story and drop the page's chrome. extract is a pure function of
// the page, its URL and the source's rules; it does no I/O.

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/newsdesk/newsdesk"
)

// The kinds of extraction failure, as ErrorKind returns them; a page too
// big to extract is kindTooLarge, a page the parser refuses kindParse.
const (
	kindSelector  = "selector"   // full_text.selector (or a remove selector) matched nothing or is invalid
	kindNoArticle = "no_article" // readability found no article on the page
	kindTooShort  = "too_short"  // the text is too short to be the story (a paywall stub, a teaser)
)

// minArticleChars is the fewest characters of text an extracted article may
// have: below it readability falls back to returning the page's navigation,
// and what is left is a paywall stub or a teaser, not the story.
const minArticleChars = 500

// maxPageElements and maxPageDepthSum bound the page extract works on.
// Readability's time grows with the number of elements times their depth:
// 19,000 elements 4 deep took 0.7 s, the same nested in towers 100 deep
// 6 s and 500 deep (html.Parse's limit is 512) 59 s; inside these bounds
// the slowest page found takes about 1 s (BenchmarkExtract,
// towers-18x100). News pages have 1,000-8,000 elements, and the sum of
// their depths stays far below the bound (27,000 for the 316 KB GitHub
// page: see TestPageWeight).
const (
	maxPageElements = 20_000
	maxPageDepthSum = 200_000
)

// fullTextRules are a full-text source's extraction rules: Selector, when
// set, picks the article instead of readability; Remove selectors are
// dropped from the whole page first.
type fullTextRules struct {
	Selector string
	Remove   []string
}

// rulesOf is the extraction rules of a source's full_text.
func rulesOf(ft newsdesk.FullText) fullTextRules { return fullTextRules{ft.Selector, ft.Remove} }

// extract returns the article in page (UTF-8; charset.HTML decodes it),
// served from pageURL, as sanitized HTML with absolute URLs, and the number
// of characters of its text. The Remove selectors are deleted from the
// whole page first; then the outermost elements matching Selector, in
// document order, are the article, or without a selector what readability
// picks. The result goes through cleanHTML like feed content, resolved
// against the page's URL (or its <base href>).
//
// A page with no article, a selector that matches nothing, or text shorter
// than minArticleChars or than the feed's summary (summaryChars) is an
// error whose kind (ErrorKind) says which, and whose message names the page.
func extract(page []byte, pageURL *url.URL, ft fullTextRules, summaryChars int) (out string, chars int, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, chars = "", 0
			err = extractError(kindParse, pageURL, fmt.Sprintf("extractor panic: %v", r), nil)
		}
	}()
	doc, err := xhtml.Parse(bytes.NewReader(page))
	if err != nil {
		return "", 0, extractError(kindParse, pageURL, "parse page: "+err.Error(), err)
	}
	if n, d := pageWeight(doc, maxPageElements, maxPageDepthSum); n > maxPageElements || d > maxPageDepthSum {
		return "", 0, extractError(kindTooLarge, pageURL,
			fmt.Sprintf("page has more than %d elements or is nested too deeply (sum of depths over %d), too big to extract an article from", maxPageElements, maxPageDepthSum), nil)
	}
	base := documentBase(doc, pageURL)
	if err := removeMatches(doc, ft.Remove); err != nil {
		return "", 0, extractError(kindSelector, pageURL, err.Error(), err)
	}
	var raw string
	if ft.Selector != "" {
		raw, err = selectArticle(doc, ft.Selector)
	} else {
		raw, err = readArticle(doc, base)
	}
	if err != nil {
		var fe *fetchError
		if errors.As(err, &fe) {
			return "", 0, extractError(fe.kind, pageURL, fe.msg, fe.err)
		}
		return "", 0, extractError(kindParse, pageURL, err.Error(), err)
	}
	clean := cleanHTML(raw, base)
	chars = utf8.RuneCountInString(collapseSpace(newsdesk.HTMLText(clean)))
	switch {
	case chars < minArticleChars:
		return "", chars, extractError(kindTooShort, pageURL,
			fmt.Sprintf("article text is %d characters, fewer than %d: a paywall or teaser page, or the story was not found (full_text.selector can point at it)", chars, minArticleChars), nil)
	case chars < summaryChars:
		return "", chars, extractError(kindTooShort, pageURL,
			fmt.Sprintf("article text is %d characters, shorter than the feed's summary (%d): the story was not found (full_text.selector can point at it)", chars, summaryChars), nil)
	}
	return clean, chars, nil
}

// extractError is a fetchError naming the page.
func extractError(kind string, pageURL *url.URL, msg string, cause error) error {
	return &fetchError{kind: kind, msg: fmt.Sprintf("extract %s: %s", redactURL(pageURL), msg), err: cause}
}

// redactURL is the page's URL for an error message, without user info.
func redactURL(u *url.URL) string {
	if u == nil {
		return "page"
	}
	return u.Redacted()
}

// CheckSelector reports whether s is a valid CSS selector (a group, as
// "div.a, div.b") for full_text.selector and full_text.remove. goquery
// matches nothing, silently, for an invalid one, so configuration checks
// it here first; the error says what is wrong.
func CheckSelector(s string) error {
	_, err := compileSelector(s)
	return err
}

// compileSelector compiles a selector group ("div.a, div.b").
func compileSelector(s string) (cascadia.Selector, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty CSS selector")
	}
	m, err := cascadia.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("invalid CSS selector %q: %v", s, err)
	}
	return m, nil
}

// pageWeight counts the elements under n and the sum of their depths,
// stopping once past either limit.
func pageWeight(n *xhtml.Node, maxElements, maxDepthSum int) (elements, depthSum int) {
	var walk func(n *xhtml.Node, depth int) bool
	walk = func(n *xhtml.Node, depth int) bool {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != xhtml.ElementNode {
				continue
			}
			elements++
			depthSum += depth
			if elements > maxElements || depthSum > maxDepthSum || !walk(c, depth+1) {
				return false
			}
		}
		return true
	}
	walk(n, 1)
	return elements, depthSum
}

// documentBase is the URL relative links of the page resolve against: the
// first <base href> (resolved against pageURL) when it is http(s), else
// pageURL, as browsers do.
func documentBase(doc *xhtml.Node, pageURL *url.URL) *url.URL {
	for n := range doc.Descendants() {
		if n.Type != xhtml.ElementNode || n.DataAtom != atom.Base {
			continue
		}
		for _, a := range n.Attr {
			if a.Namespace != "" || a.Key != "href" {
				continue
			}
			ref, err := url.Parse(strings.TrimSpace(a.Val))
			if err != nil {
				return pageURL
			}
			if pageURL != nil {
				ref = pageURL.ResolveReference(ref)
			}
			if ref.Scheme == "http" || ref.Scheme == "https" {
				return ref
			}
			return pageURL
		}
	}
	return pageURL
}

// removeMatches detaches every element matching one of the selectors from
// the document.
func removeMatches(doc *xhtml.Node, selectors []string) error {
	if len(selectors) == 0 {
		return nil
	}
	d := goquery.NewDocumentFromNode(doc)
	for _, s := range selectors {
		m, err := compileSelector(s)
		if err != nil {
			return fmt.Errorf("full_text.remove: %w", err)
		}
		d.FindMatcher(m).Remove()
	}
	return nil
}

// selectArticle renders the outermost elements matching selector, in
// document order: a selector matching an element and one inside it must
// not give its text twice.
func selectArticle(doc *xhtml.Node, selector string) (string, error) {
	m, err := compileSelector(selector)
	if err != nil {
		return "", &fetchError{kindSelector, "full_text.selector: " + err.Error(), err}
	}
	sel := goquery.NewDocumentFromNode(doc).FindMatcher(m)
	matched := make(map[*xhtml.Node]bool, sel.Length())
	for _, n := range sel.Nodes {
		matched[n] = true
	}
	var b strings.Builder
	for _, n := range sel.Nodes {
		if hasMatchedAncestor(n, matched) {
			continue
		}
		if err := xhtml.Render(&b, n); err != nil {
			return "", err
		}
	}
	if len(matched) == 0 {
		return "", &fetchError{kind: kindSelector, msg: fmt.Sprintf("full_text.selector %q matched nothing on the page (the site may have changed its layout)", selector)}
	}
	return b.String(), nil
}

func hasMatchedAncestor(n *xhtml.Node, matched map[*xhtml.Node]bool) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if matched[p] {
			return true
		}
	}
	return false
}

// readArticle renders what readability finds the article to be: the
// children of its wrapper <div id="readability-page-1" class="page">, not
// the wrapper, whose id would repeat on every item of a section page.
// Readability resolves the links it keeps against base, the page's URL or
// its <base href> (given a relative <base href> by itself it resolves some
// links against the page's URL instead). The document is changed in place
// (ParseAndMutate): it was parsed for this call alone. A Parser holds per-parse state, so each call makes its own.
func readArticle(doc *xhtml.Node, base *url.URL) (string, error) {
	p := readability.NewParser()
	a, err := p.ParseAndMutate(doc, base)
	if err != nil {
		return "", fmt.Errorf("readability: %w", err)
	}
	if a.Node == nil {
		return "", &fetchError{kind: kindNoArticle, msg: "no article found on the page (full_text.selector can point at it)"}
	}
	nodes := []*xhtml.Node{a.Node}
	if isReadabilityWrapper(a.Node) {
		nodes = nodes[:0]
		for c := range a.Node.ChildNodes() {
			nodes = append(nodes, c)
		}
	}
	var b strings.Builder
	for _, n := range nodes {
		if err := xhtml.Render(&b, n); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// isReadabilityWrapper reports whether n is the <div id="readability-page-N">
// readability wraps its result in.
func isReadabilityWrapper(n *xhtml.Node) bool {
	if n.Type != xhtml.ElementNode || n.Data != "div" {
		return false
	}
	for _, a := range n.Attr {
		if a.Key == "id" && strings.HasPrefix(a.Val, "readability-page-") {
			return true
		}
	}
	return false
}
