package fetcher

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/charset"
)

// slowCleanHTML is cleanHTML as it was before fastTidy and the text fast
// path: every field through the HTML parser (tidyHTML) and then through
// the sanitizer. The differential tests hold cleanHTML to it byte for
// byte.
func slowCleanHTML(s string, base *url.URL) string {
	s = strings.TrimSpace(stripControls(s))
	if s == "" {
		return ""
	}
	s = tidyHTML(s, base)
	s = htmlPolicy.Sanitize(s)
	return strings.TrimSpace(stripControls(s))
}

// diffStats counts how the inputs a differential test checked were
// cleaned.
type diffStats struct{ fields, text, fast, parsed int }

// check compares cleanHTML with slowCleanHTML for s, and fastTidy, when it
// takes s, with tidyHTML.
func (st *diffStats) check(t *testing.T, where, s string, base *url.URL) {
	t.Helper()
	st.fields++
	if got, want := cleanHTML(s, base), slowCleanHTML(s, base); got != want {
		t.Errorf("%s: cleanHTML(%q)\n = %q\nwant %q (as before)", where, s, got, want)
	}
	s = strings.TrimSpace(stripControls(s))
	if !strings.Contains(s, "<") {
		st.text++
		return
	}
	var buf bytes.Buffer
	if !fastTidy(&buf, s, base) {
		st.parsed++
		return
	}
	st.fast++
	if got, want := buf.String(), tidyHTML(s, base); got != want {
		t.Errorf("%s: fastTidy(%q)\n = %q\nwant %q (tidyHTML)", where, s, got, want)
	}
}

func (st *diffStats) log(t *testing.T, what string) {
	t.Logf("%s: %d fields: %d text, %d tidied in one read, %d parsed", what, st.fields, st.text, st.fast, st.parsed)
}

var diffBase, _ = url.Parse("https://site.example/news/2026/story.html?id=1")

// TestCleanHTMLCases holds the fast paths to the parser and sanitizer on
// the markup they take and on the markup just past it, which they must
// leave to the parser.
func TestCleanHTMLCases(t *testing.T) {
	cases := []string{
		// Text.
		"plain words", "AT&T", "AT&amp;T", "a &lt;b&gt; c", "&copy; 2026 &copy2026 &notit; &amp",
		"quotes \"double\" and 'single'", "1 > 0", "a\r\nb\rc", "&#13; &#0; &#x80; &#1;x", "&#65",
		"tab\tnbsp\u00a0end", "< 3", "a <", "a <3 b", "x </ y", "x </> y", "<>",
		// Markup fastTidy takes.
		"<p>One <a href=\"/story/1\">link</a> &amp; more.</p>\n<img src=\"/img/1.jpg\" alt=\"An &quot;alt&quot;\" width=\"640\">",
		"<P CLASS=x>Upper <B>case</B></P>", "<p>left open", "<div><p>a</p><p>b</p></div>",
		"<ul><li>one<li>two</ul>", "<ul><li>one</li><li>two <ol><li>x</li></ol></li></ul>",
		"<h2>Title</h2><p>text</p><hr><p>more<br>lines<br/>here</p>",
		"<script>track('view')</script><div style=\"color:red\" onclick=\"x()\">ad</div>",
		"<style>p { color: red }</style><p>x</p>", "<script src=\"/t.js\"></script>", "<script>x</SCRIPT>y",
		"<a href=/x/>unquoted with slash</a>", "<a href=/x/ >unquoted</a>", "<img src=x.jpg/>",
		"<img src='single.jpg' alt='it&#39;s'>", "<a href=\"?a=1&b=2&amp;c=3&#38;d=4\">q</a>",
		"<a href=\"https://cdn.example/x\" title=\"T &gt; U\">abs</a>",
		"<img srcset=\"a.jpg 1x, /b.jpg 2x\" src=\"a.jpg\">", "<blockquote cite=\"/src\">q</blockquote>",
		"<details open><summary>s</summary>d</details>", "<span lang=en dir=ltr>x</span>",
		"<b>bold <i>both</i></b> <em>em</em><strong>st</strong><code>c</code>",
		"<p>a\r\nb</p><a href=\"x\r\ny\">z</a>", "<figure><img src=a.jpg><figcaption>c</figcaption></figure>",
		"<h1>a</h1><h2>b <span>c</span></h2>", "<p>x</p >", "<br  />", "<wbr>", "<a href=\"javascript:alert(1)\">j</a>",
		"<img src=\"data:image/png;base64,xx\" onerror=\"alert(1)\">", "<a href=\"mailto:a@b.example\">m</a>",
		// Markup left to the parser.
		"<p>a<p>b", "<p><div>x</div></p>", "<b><i>x</b></i>", "<a href=1><a href=2>x</a></a>", "<b><b>x</b></b>",
		"<h1><h2>x</h2></h1>", "<li>x</li>", "<ul><p><li>x</ul>", "</p>", "<br></br>", "<p/>x", "<!-- c --><p>x</p>",
		"<!DOCTYPE html><p>x</p>", "<?php x ?>", "<table><tr><td>x</td></tr></table>", "<pre>\nx</pre>",
		"<textarea>x</textarea>", "<title>x</title>", "<noscript><p>x</p></noscript>", "<iframe src=x></iframe>",
		"<script>if (a < b) x()</script>", "<script>x", "<style>x</style >", "<script>x</scripts>y</script>",
		"<style>x</ſtyle>y</style>", "<svg><script>1</script></svg>",
		"<a href=\"&copy=1\">c</a>", "<a href=\"&copyx;\">c</a>", "<a href=\"&amp\">c</a>", "<a href=\"&eacute;\">e</a>",
		"<a href=x title=a title=b>dup</a>", "<a href=\"x\"title=\"y\">tight</a>", "<a href=>empty</a>",
		"<a b=`x`>tick</a>", "<a-b>custom</a-b>", "<a:b>ns</a:b>", "<p data-x=1 =y>z</p>", "<img src=\"x", "<p",
		"<image src=x>", "<font color=red>x</font>", "<center>c</center>", "<select><option>x</select>",
		"<p>" + strings.Repeat("<span>", 40) + "deep", strings.Repeat("<div><b>", 300) + "deep &amp; <i>down</i>",
		"<body onload=x()><p>x</p></body>", "<html><p>x", "<math><mi>x</mi></math>", "<dl><dt>a<dd>b</dl>",
	}
	var st diffStats
	for _, base := range []*url.URL{diffBase, nil} {
		for _, s := range cases {
			st.check(t, "case", s, base)
		}
	}
	st.log(t, "cases")
	if st.fast == 0 || st.parsed == 0 || st.text == 0 {
		t.Errorf("cases took every path? %+v", st)
	}
}

// FuzzCleanHTMLSame holds cleanHTML to the old pipeline, and fastTidy to
// tidyHTML, on whatever the fuzzer makes; the seeds run in every go test.
func FuzzCleanHTMLSame(f *testing.F) {
	f.Add("<p>One <a rel=tag href=\"/s?a=1&amp;b=2\">link</a> &amp; <img src=/i.jpg alt='it&#39;s'></p>", true)
	f.Add("<ul><li>a<li>b</ul><h2>t</h2><script>x()</script><b class=c id=i>b</b>", false)
	f.Add("<p data-x=1 aria-label=\"l\">x</p><br/><hr />AT&T &copy 2026", true)
	f.Fuzz(func(t *testing.T, s string, withBase bool) {
		base := diffBase
		if !withBase {
			base = nil
		}
		var st diffStats
		st.check(t, "fuzz", s, base)
	})
}

// TestCleanHTMLGenerated holds cleanHTML to the old pipeline on random
// markup made of the pieces news items and hostile feeds are made of.
func TestCleanHTMLGenerated(t *testing.T) {
	pieces := []string{
		"<p>", "</p>", "<div>", "</div>", "<a href=\"/s/1?a=1&amp;b=2\">", "<a href='x y'>", "</a>",
		"<b>", "</b>", "<i>", "</i>", "<em>", "</em>", "<strong>", "</strong>", "<span>", "</span>",
		"<ul>", "</ul>", "<ol>", "</ol>", "<li>", "</li>", "<h2>", "</h2>", "<h3>", "</h3>",
		"<blockquote cite=q>", "</blockquote>", "<br>", "<br/>", "<hr>", "<img src=\"/i.jpg\" alt=\"a\">",
		"<img srcset=\"a.jpg 1x, b.jpg 2x\">", "<script>x()</script>", "<style>p{}</style>", "<script>a<b</script>",
		"<!-- c -->", "<table>", "<td>", "<pre>", "<textarea>", "<noscript>", "<svg>", "<iframe src=f>",
		"<p onclick=x() style=y>", "<a href=\"javascript:x()\">", "<A HREF=/up>", "<p title=\"&lt;&amp;&gt;\">",
		"text ", "AT&T ", "&amp; ", "&lt;b&gt; ", "&copy ", "&#1; ", "\"q\" ", "'s ", " < ", "> ", "\r\n", "\n",
		"Привет ", "&nbsp;", "<", "</", "&",
	}
	r := rand.New(rand.NewPCG(12, 2026))
	var st diffStats
	for range 4000 {
		var b strings.Builder
		for range 1 + r.IntN(14) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		base := diffBase
		if r.IntN(5) == 0 {
			base = nil
		}
		st.check(t, "generated", b.String(), base)
	}
	st.log(t, "generated")
}

// TestCleanHTMLGeneratedNested holds cleanHTML to the old pipeline on
// random well-nested markup, most of which fastTidy takes: elements of
// every rule, attributes written every way, text with references.
func TestCleanHTMLGeneratedNested(t *testing.T) {
	names := make([]string, 0, len(fastElements))
	for n := range fastElements {
		names = append(names, n)
	}
	slices.Sort(names)
	attrs := []string{
		` href="/a?b=1&amp;c=2"`, ` href=/u/`, ` HREF='javascript:x()'`, ` src="i.jpg"`, ` srcset="a.jpg 1x, b.jpg 2x"`,
		` alt="&quot;q&quot; &#8212; it's"`, ` title=t`, ` cite="//other.example/x"`, ` rel="tag"`, ` style="color:red"`,
		` onclick="x()"`, ` open`, ` lang="en"`, ` width="640"`, ` href="&copy=1"`, ` data-x="1"`, ` href="a\r\nb"`,
		` poster="p.jpg"`, ` id="x1"`, ` class="c"`, ` dir="rtl"`,
	}
	texts := []string{"word ", "AT&T ", "&amp; ", "&lt;x&gt; ", "\"q\" ", "it's ", "a < b ", "\n", "Привет ", "&#1;", "&copy "}
	r := rand.New(rand.NewPCG(7, 2026))
	var gen func(b *strings.Builder, depth int)
	gen = func(b *strings.Builder, depth int) {
		for range 1 + r.IntN(4) {
			if depth > 3 || r.IntN(3) == 0 {
				b.WriteString(texts[r.IntN(len(texts))])
				continue
			}
			name := names[r.IntN(len(names))]
			b.WriteString("<" + name)
			for _, k := range r.Perm(len(attrs))[:r.IntN(4)] {
				b.WriteString(attrs[k])
			}
			if e := fastElements[name]; e != nil && (e.rule == ruleVoid || e.rule == ruleVoidBlock) {
				b.WriteString([]string{">", "/>", " />"}[r.IntN(3)])
				continue
			}
			b.WriteString(">")
			if e := fastElements[name]; e != nil && e.rule == ruleRawText {
				b.WriteString("x = 1 && y\r\n</" + name + ">")
				continue
			}
			gen(b, depth+1)
			if r.IntN(20) != 0 {
				b.WriteString("</" + name + ">")
			}
		}
	}
	var st diffStats
	for range 2000 {
		var b strings.Builder
		gen(&b, 0)
		st.check(t, "nested", b.String(), diffBase)
	}
	st.log(t, "nested")
}

// TestCleanHTMLFixtures holds cleanHTML to the old pipeline on every
// summary and content of the test feeds and on the sanitizer's golden
// inputs.
func TestCleanHTMLFixtures(t *testing.T) {
	var st diffStats
	feeds, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range feeds {
		if strings.HasSuffix(name, ".html") {
			continue
		}
		diffFeed(t, &st, name)
	}
	inputs, err := filepath.Glob(filepath.Join("testdata", "sanitize", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(goldenBase)
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		st.check(t, in, string(b), base)
	}
	st.log(t, "fixtures")
}

// TestCleanHTMLCorpora holds cleanHTML to the old pipeline on every
// summary and content in other projects' feed test suites.
func TestCleanHTMLCorpora(t *testing.T) {
	var st diffStats
	for _, path := range corpusFiles(t, corporaRoot(t)) {
		diffFeed(t, &st, path)
	}
	st.log(t, "corpora")
}

// diffFeed parses the feed file at path and checks the summary and
// content of each of its items, resolved against the item's link.
func diffFeed(t *testing.T, st *diffStats, path string) {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body, err = readBody(bytes.NewReader(body), newsdesk.DefaultMaxBody, -1)
	if err != nil {
		return
	}
	f, err := parseFeed(body)
	if err != nil || f == nil {
		return
	}
	base := baseURL("https://corpus.example/feed", f.Link)
	for _, gi := range f.Items {
		if gi == nil {
			continue
		}
		b := base
		if link := newsdesk.HTTPURL(absURL(base, strings.TrimSpace(gi.Link))); link != "" {
			b, _ = url.Parse(link)
		}
		st.check(t, path, gi.Description, b)
		st.check(t, path, gi.Content, b)
	}
}

// parseFeed is a body decoded and parsed as Fetch does, without
// Normalize; a gofeed panic is an error.
func parseFeed(body []byte) (f *gofeed.Feed, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("parser panic: %v", r)
		}
	}()
	text, err := charset.ToUTF8(body, "")
	if err != nil {
		return nil, err
	}
	return newParser().Parse(bytes.NewReader(text))
}
