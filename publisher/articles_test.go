package publisher

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/atomtest"
)

// Full article text (issue 13): the "Russia News" section of a
// Moscow-Times-shaped source whose feed carries one sentence per story and
// whose items mostly have their article, and a second source with
// attribution: false.

// mtArticle is an article as the store holds it: sanitized, URLs absolute.
const mtArticle = `<p>A Moscow court on Thursday fined the human rights group <a href="https://www.themoscowtimes.com/tag/memorial">Memorial</a> 1.5 million rubles &amp; ordered it to pay the court&#39;s costs, judges said.</p>
<figure><img src="https://static.themoscowtimes.com/image/article_1360/court.jpg" alt="The Tverskoy court building"><figcaption>The Tverskoy court in Moscow.</figcaption></figure>
<p>Prosecutors had asked for a fine twice as large, citing what they called <em>repeated</em> violations of the &#34;foreign agent&#34; law.</p>
<blockquote><p>“We will appeal,” the group’s lawyer told <a href="https://www.themoscowtimes.com/">The Moscow Times</a>.</p></blockquote>
<p>The ruling is the third against the group this year.</p>`

const mtArticle2 = `<h2>What happened</h2>
<p>The central bank kept its key rate at 16.5% on Friday, as analysts had expected.</p>
<ul><li>Inflation slowed to 7.2% in October.</li><li>The ruble weakened 2% this week.</li></ul>
<p>Read the bank&#39;s <a href="https://www.cbr.ru/eng/press/pr/">statement</a>.</p>`

const ngArticle = `<p>The newspaper&#39;s editors said on Monday they would keep publishing from Riga.</p>
<p>More in <a href="https://novayagazeta.eu/articles/2026/11/18/editors">our editors&#39; letter</a>.</p>`

// russiaFixture is the fixture of the Russia News section: moscow-times
// (attribution on, as config sets it) with two items that have their
// article, one whose title needs escaping, and one that has none (the
// article pass gave up); novaya (attribution: false) with an article and
// a feed that gave content but no summary.
func russiaFixture(t *testing.T) (*fakeStore, Config) {
	t.Helper()
	st := &fakeStore{
		items: []newsdesk.Item{
			{
				SourceID:  "moscow-times",
				ID:        "https://www.themoscowtimes.com/2026/11/20/court-fines-memorial-a91234",
				Title:     `Court fines "Memorial" & <others> again`,
				Link:      "https://www.themoscowtimes.com/2026/11/20/court-fines-memorial-a91234",
				Summary:   "A Moscow court fined the rights group Memorial on Thursday.",
				Article:   mtArticle,
				Authors:   []newsdesk.Person{{Name: "Anna Petrova"}},
				Published: date("2026-11-20T14:00:00Z"),
				FirstSeen: date("2026-11-20T14:05:00Z"),
			},
			{
				SourceID:  "moscow-times",
				ID:        "https://www.themoscowtimes.com/2026/11/21/key-rate-a91250",
				Title:     "Central bank holds key rate at 16.5%",
				Link:      "https://www.themoscowtimes.com/2026/11/21/key-rate-a91250",
				Summary:   "The Bank of Russia kept its key rate unchanged.",
				Article:   mtArticle2,
				Published: date("2026-11-21T10:30:00Z"),
				FirstSeen: date("2026-11-21T10:31:00Z"),
			},
			{
				SourceID:  "moscow-times",
				ID:        "https://www.themoscowtimes.com/2026/11/19/paywalled-a91200",
				Title:     "Gazprom's exports fall",
				Link:      "https://www.themoscowtimes.com/2026/11/19/paywalled-a91200",
				Summary:   "Gas exports fell for the fifth month.",
				Published: date("2026-11-19T09:00:00Z"),
				FirstSeen: date("2026-11-19T09:01:00Z"),
			},
			{
				SourceID:  "novaya",
				ID:        "https://novayagazeta.eu/articles/2026/11/18/riga",
				Title:     "Editors stay in Riga",
				Link:      "https://novayagazeta.eu/articles/2026/11/18/riga",
				Content:   "<p>The editors will keep publishing from Riga.</p>",
				Article:   ngArticle,
				Published: date("2026-11-18T08:00:00Z"),
				FirstSeen: date("2026-11-18T08:00:00Z"),
			},
		},
		states: []newsdesk.FetchState{
			{SourceID: "moscow-times", FeedTitle: "The Moscow Times - Independent News from Russia", FeedLink: "https://www.themoscowtimes.com/"},
			{SourceID: "novaya", FeedTitle: "Novaya Gazeta Europe", FeedLink: "https://novayagazeta.eu/"},
		},
	}
	cfg := Config{
		BaseURL: "http://localhost:8080/",
		Title:   "newsdesk",
		Sources: []newsdesk.Source{
			{ID: "moscow-times", Title: "The Moscow Times", URL: "https://www.themoscowtimes.com/rss/news", Interval: 15 * time.Minute,
				FullText: newsdesk.FullText{Enabled: true, Attribution: true}},
			{ID: "novaya", URL: "https://novayagazeta.eu/feed/rss", Interval: 30 * time.Minute,
				FullText: newsdesk.FullText{Enabled: true, Selector: "div.article-body"}},
		},
		Sections: []newsdesk.Section{
			{ID: "russia", Title: "Russia News", Description: "Full stories from Russia's independent press.", Sources: []string{"moscow-times", "novaya"}, Limit: 20},
		},
		Now: func() time.Time { return date("2026-11-22T00:00:00Z") },
	}
	return st, cfg
}

func renderRussia(t *testing.T) *Site {
	t.Helper()
	return renderOf(t, russiaFixture)
}

// The attribution lines the fixture's items end with (HTML, as in content).
const (
	courtAttribution = `<p>Source: <a href="https://www.themoscowtimes.com/2026/11/20/court-fines-memorial-a91234">The Moscow Times — Court fines &#34;Memorial&#34; &amp; &lt;others&gt; again</a></p>`
	rateAttribution  = `<p>Source: <a href="https://www.themoscowtimes.com/2026/11/21/key-rate-a91250">The Moscow Times — Central bank holds key rate at 16.5%</a></p>`
)

var russiaPaths = []string{"sections/russia.atom", "sections/russia.html", "sections/russia.json", "sections/russia.rss"}

func TestArticleGolden(t *testing.T) {
	site := renderRussia(t)
	for _, path := range russiaPaths {
		t.Run(path, func(t *testing.T) { checkGolden(t, site, path) })
	}
}

// TestArticleFeedRules validates the section's feeds as the fixture's are:
// Atom with jing against RFC 4287's schema, and every format against the
// rules the W3C validator and the JSON Feed spec check.
func TestArticleFeedRules(t *testing.T) {
	site := renderRussia(t)
	file := filepath.Join(t.TempDir(), "russia.atom")
	if err := os.WriteFile(file, body(t, site, "sections/russia.atom"), 0o644); err != nil {
		t.Fatal(err)
	}
	atomtest.Validate(t, file)
	checkAtom(t, "russia.atom", body(t, site, "sections/russia.atom"), "http://localhost:8080/sections/russia.atom")
	checkRSS(t, "russia.rss", body(t, site, "sections/russia.rss"), "http://localhost:8080/sections/russia.rss")
	checkJSONFeed(t, "russia.json", body(t, site, "sections/russia.json"), "http://localhost:8080/sections/russia.json")
}

// TestArticleContent reads each feed back as a reader would: an item with
// an article has it as its content, ending with the attribution unless its
// source turned it off, and the feed's text as its summary; an item
// without one is as the feed gave it.
func TestArticleContent(t *testing.T) {
	site := renderRussia(t)
	for _, ext := range []string{".atom", ".rss", ".json"} {
		t.Run(ext, func(t *testing.T) {
			f, err := gofeed.NewParser().Parse(bytes.NewReader(body(t, site, "sections/russia"+ext)))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if len(f.Items) != 4 {
				t.Fatalf("%d items, want 4", len(f.Items))
			}
			rate, court, gas, riga := f.Items[0], f.Items[1], f.Items[2], f.Items[3]
			wantContent := map[string]string{
				"rate":  mtArticle2 + "\n" + rateAttribution,
				"court": mtArticle + "\n" + courtAttribution,
				"gas":   "",
				"riga":  ngArticle,
			}
			if ext == ".json" {
				// Without content, JSON Feed's content_html is the summary.
				wantContent["gas"] = "Gas exports fell for the fifth month."
			}
			for name, it := range map[string]*gofeed.Item{"rate": rate, "court": court, "gas": gas, "riga": riga} {
				if it.Content != wantContent[name] {
					t.Errorf("%s: content =\n%s\nwant\n%s", name, it.Content, wantContent[name])
				}
			}
			// JSON Feed's summary is plain text; the others' is HTML.
			wantSummary := map[string]string{
				"court": "A Moscow court fined the rights group Memorial on Thursday.",
				"gas":   "Gas exports fell for the fifth month.",
				"riga":  "<p>The editors will keep publishing from Riga.</p>",
			}
			if ext == ".json" {
				wantSummary["riga"] = "The editors will keep publishing from Riga."
				wantSummary["gas"] = ""
			}
			for name, it := range map[string]*gofeed.Item{"court": court, "gas": gas, "riga": riga} {
				if it.Description != wantSummary[name] {
					t.Errorf("%s: summary = %q, want %q", name, it.Description, wantSummary[name])
				}
			}
			// The attribution reads as plain text with the title's
			// characters as they were, escaped once.
			text := newsdesk.HTMLText(court.Content)
			if want := `Source: The Moscow Times — Court fines "Memorial" & <others> again`; !strings.HasSuffix(text, want) {
				t.Errorf("court: text ends %q, want %q", text[max(0, len(text)-80):], want)
			}
		})
	}
}

// TestArticleEscapedOnce checks the attribution's escaping in the bytes of
// each format: HTML in XML text is escaped twice (once as HTML, once as
// XML), in RSS's CDATA and in JSON once.
func TestArticleEscapedOnce(t *testing.T) {
	site := renderRussia(t)
	for path, want := range map[string]string{
		"sections/russia.atom": `The Moscow Times — Court fines &amp;#34;Memorial&amp;#34; &amp;amp; &amp;lt;others&amp;gt; again&lt;/a&gt;&lt;/p&gt;</content>`,
		"sections/russia.rss":  courtAttribution + `]]></content:encoded>`,
		"sections/russia.json": `"content_html": ` + jsonString(t, mtArticle+"\n"+courtAttribution) + ",",
		"sections/russia.html": courtAttribution,
	} {
		if got := string(body(t, site, path)); strings.Count(got, want) != 1 {
			t.Errorf("%s: %s occurs %d times, want once", path, want, strings.Count(got, want))
		}
	}
}

func jsonString(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TestArticlePage checks the section page: stories whole, with their
// attribution, inside their <article>; the item without one as a snippet;
// the page's own parts (no script, the style for stories) and a balanced
// tree.
func TestArticlePage(t *testing.T) {
	page := string(body(t, renderRussia(t), "sections/russia.html"))
	for _, want := range []string{
		"<div class=\"story\">\n" + mtArticle + "\n" + courtAttribution + "\n</div>\n</article>",
		"<div class=\"story\">\n" + mtArticle2 + "\n" + rateAttribution + "\n</div>\n</article>",
		"<div class=\"story\">\n" + ngArticle + "\n</div>\n</article>",
		`<h2><a href="https://www.themoscowtimes.com/2026/11/20/court-fines-memorial-a91234">Court fines &#34;Memorial&#34; &amp; &lt;others&gt; again</a></h2>`,
		"<p>Gas exports fell for the fifth month.</p>\n</article>",
		".story img, .story video { max-width: 100%; height: auto; }",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("section page lacks %s", want)
		}
	}
	if n := strings.Count(page, "Source: "); n != 2 {
		t.Errorf("section page has %d attributions, want 2 (novaya has attribution: false)", n)
	}
	if strings.Contains(page, "<script") {
		t.Errorf("section page has a script")
	}
	checkBalanced(t, page)
}

// checkBalanced parses page as a browser would and checks that the
// elements the stories bring close where they opened: each <article>
// holds one story, and main holds every article.
func checkBalanced(t *testing.T, page string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var articles, stories int
	var walk func(n *html.Node, inMain, inArticle bool)
	walk = func(n *html.Node, inMain, inArticle bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "main":
				inMain = true
			case "article":
				if !inMain || inArticle {
					t.Errorf("an <article> outside <main> or inside another")
				}
				articles++
				inArticle = true
			case "div":
				if n.Attr != nil && n.Attr[0].Val == "story" {
					if !inArticle {
						t.Errorf("a story outside its <article>")
					}
					stories++
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inMain, inArticle)
		}
	}
	walk(doc, false, false)
	if articles != 4 || stories != 3 {
		t.Errorf("page has %d articles and %d stories, want 4 and 3", articles, stories)
	}
}

// TestArticleVersionHash: the arrival of an article and a change of a
// source's attribution give the section a new version (and so new ETags
// and Last-Modified); attribution of a source whose items show no article
// changes nothing.
func TestArticleVersionHash(t *testing.T) {
	hash := func(change func(*fakeStore, *Config)) string {
		t.Helper()
		st, cfg := russiaFixture(t)
		change(st, &cfg)
		site, err := Render(st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return site.versions["russia"].Hash
	}
	base := hash(func(*fakeStore, *Config) {})
	for _, tt := range []struct {
		name    string
		change  func(*fakeStore, *Config)
		changed bool
	}{
		{"an article arrives", func(s *fakeStore, _ *Config) { s.items[2].Article = "<p>Gas exports fell again.</p>" }, true},
		{"attribution turned off", func(_ *fakeStore, c *Config) { c.Sources[0].FullText.Attribution = false }, true},
		{"attribution turned on", func(_ *fakeStore, c *Config) { c.Sources[1].FullText.Attribution = true }, true},
	} {
		if got := hash(tt.change); (got != base) != tt.changed {
			t.Errorf("%s: hash changed = %v, want %v", tt.name, got != base, tt.changed)
		}
	}
	noArticle := func(s *fakeStore, _ *Config) { s.items[3].Article = "" }
	if hash(noArticle) != hash(func(s *fakeStore, c *Config) { noArticle(s, c); c.Sources[1].FullText.Attribution = true }) {
		t.Errorf("attribution turned on for a source whose items show no article: hash changed, want the same")
	}
}

// TestAttributionOutdated: a source whose attribution changed is shown
// otherwise, so its sections are rendered again.
func TestAttributionOutdated(t *testing.T) {
	a := newSource(newsdesk.Source{ID: "x", URL: "https://x.example/feed", FullText: newsdesk.FullText{Attribution: true}}, newsdesk.FetchState{}, true)
	b := newSource(newsdesk.Source{ID: "x", URL: "https://x.example/feed"}, newsdesk.FetchState{}, true)
	if a.same(b) {
		t.Errorf("sources differing only in attribution are the same(); want them shown otherwise")
	}
}
