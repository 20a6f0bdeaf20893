package fetcher

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/charset"
)

// articlePage reads a page from testdata/articles and decodes it as the
// article pass does.
func articlePage(t testing.TB, name, contentType string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "articles", name))
	if err != nil {
		t.Fatal(err)
	}
	page, _, err := charset.HTML(raw, contentType)
	if err != nil {
		t.Fatalf("charset.HTML(%s) error = %v", name, err)
	}
	return page
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestExtractArticles checks, for news-shaped pages, that the article
// keeps every paragraph of the story and none of the page's chrome.
func TestExtractArticles(t *testing.T) {
	mtParagraphs := []string{
		"The Kremlin said on Tuesday that talks between the Russian and Ukrainian delegations would continue next week in Istanbul",
		"The delegations met in Istanbul in March.",
		"Officials from both sides have met three times since the spring",
		`"We are ready to continue the dialogue," the spokesman said`,
		"The previous round, held in the same city, lasted less than two hours",
		"Turkey, which has hosted every round so far, said it was prepared to do so again.",
		"The talks are being watched closely in European capitals",
	}
	mtChrome := []string{
		"cookies", "Accept cookies", "Search the site", "Podcasts", "Newsletters", "Share on", "Send by email",
		"Read more", "Why Istanbul Keeps Hosting the Talks", "Leave a Comment",
		"Your email address will not be published", "Post Comment", "Most Read",
		"Subscribe to our newsletter", "Privacy Policy", "all rights reserved", "Scroll to Top",
		"Diplomacy", "track(", "dataLayer", "margin:",
	}
	tests := []struct {
		name, file, contentType string
		rules                   fullTextRules
		paragraphs, chrome      []string
	}{
		{"moscow times, readability", "moscowtimes.html", "text/html; charset=utf-8", fullTextRules{}, mtParagraphs, mtChrome},
		{"moscow times, selector and remove", "moscowtimes.html", "", fullTextRules{
			Selector: "article.article",
			Remove:   []string{".social-share", ".related", ".article__tags", ".article__label"},
		}, append([]string{"Kremlin Says Talks With Kyiv Will Continue Next Week"}, mtParagraphs...), mtChrome},
		{"wordpress, readability", "wordpress.html", "", fullTextRules{}, []string{
			"The city council voted eleven to four on Monday night",
			"Construction is expected to begin next spring",
			"Supporters said the tram would take thousands of cars off the ring road",
			`"This is the biggest decision this council has taken in a generation," the mayor said`,
		}, []string{
			// readability keeps WordPress's "Skip to content" link (a
			// skip-link outside the story's container); Remove:
			// [".skip-link"] drops it.
			"We use cookies", "Riverside Gazette", "Share this", "Facebook", "Related", "Bus lanes extended",
			"Leave a Reply", "Your email address will not be published", "Recent Posts",
			"Proudly powered by WordPress", "Scroll to Top",
		}},
		{"windows-1251 declared in meta only", "cp1251.html", "text/html", fullTextRules{}, []string{
			"Ремонт тротуаров на Тверской улице продлится до конца сентября",
			"По словам представителя департамента, на участке от Пушкинской площади",
			"Жители соседних домов жалуются на шум по ночам.",
			"Городские власти обещают, что после окончания ремонта",
		}, []string{"cookie", "Главная", "Поделиться", "Читайте также", "Ремонт на Садовом кольце", "Все права защищены", "Наверх"}},
		{"only a selector finds it", "selector.html", "", fullTextRules{Selector: "aside.bulletin-text"}, []string{
			"From the first of May the harbour ferry will leave the north pier every twenty minutes",
			"The last evening departure moves from ten to eleven o'clock",
			"Season tickets bought before the change stay valid.",
			"a survey of passengers in the autumn would decide whether the new timetable stays.",
		}, []string{"Port Bulletin", "North route", "Lost property", "Privacy"}},
		{"wikipedia (real page), remove", "corpus/miniflux_wikipedia.html", "", fullTextRules{
			Remove: []string{".mw-editsection", "#siteSub", ".bandeau-container", ".bandeau-portail"},
		}, []string{
			"Miniflux est un agrégateur de flux RSS minimaliste.",
			"Miniflux vérifie les en-têtes HTTP et met à jour les flux uniquement lorsque c'est nécessaire.",
		}, []string{"modifier le code", "Un article de Wikipédia", "Portail des logiciels libres", "Navigation", "Créer un compte"}},
		{"github (real page), selector", "corpus/miniflux_github.html", "", fullTextRules{Selector: "article.markdown-body"}, []string{
			"Miniflux is a minimalist and opinionated feed reader: Written in Go",
		}, []string{"Skip to content", "Sign in", "Automate any workflow", "Contributors", "Languages"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := articlePage(t, tt.file, tt.contentType)
			got, chars, err := extract(page, mustURL(t, "https://www.example.com/news/2025/01/14/story-a1"), tt.rules, 0)
			if err != nil {
				t.Fatalf("extract() error = %v", err)
			}
			text := newsdesk.HTMLText(got)
			if n := utf8.RuneCountInString(text); chars != n || chars < minArticleChars {
				t.Errorf("extract() chars = %d, want the text's %d, at least %d", chars, n, minArticleChars)
			}
			for _, p := range tt.paragraphs {
				if !strings.Contains(text, p) {
					t.Errorf("extract() text lacks the story's %q\ntext: %s", p, text)
				}
			}
			for _, c := range tt.chrome {
				if strings.Contains(text, c) || strings.Contains(got, c) {
					t.Errorf("extract() kept the page chrome %q\nhtml: %s", c, got)
				}
			}
			if strings.Contains(got, "readability-page") {
				t.Errorf("extract() kept readability's wrapper: %.120s", got)
			}
		})
	}
}

// TestExtractReadabilityMissesAsideStory is why full_text.selector exists:
// readability drops a story marked up as an <aside role="complementary">
// and returns the page's menu, which is too short to pass as the story.
func TestExtractReadabilityMissesAsideStory(t *testing.T) {
	page := articlePage(t, "selector.html", "")
	_, _, err := extract(page, mustURL(t, "https://port.example/notices/ferry"), fullTextRules{}, 0)
	if ErrorKind(err) != kindTooShort {
		t.Errorf("extract() without a selector: kind %q (%v), want %q", ErrorKind(err), err, kindTooShort)
	}
}

func TestExtractErrors(t *testing.T) {
	story := "<p>" + strings.Repeat("A sentence of the story that goes on. ", 20) + "</p>"
	storyPage := "<html><body><div class=story>" + story + "</div></body></html>"
	tests := []struct {
		name, page   string
		rules        fullTextRules
		summaryChars int
		kind, msg    string
	}{
		{"paywall stub", string(articlePage(t, "paywall.html", "")), fullTextRules{}, 0, kindTooShort, "fewer than 500"},
		{"paywall stub with a selector", string(articlePage(t, "paywall.html", "")), fullTextRules{Selector: "article.story"}, 0, kindTooShort, "fewer than 500"},
		{"shorter than the summary", storyPage, fullTextRules{}, 2000, kindTooShort, "shorter than the feed's summary (2000)"},
		{"selector matches nothing", storyPage, fullTextRules{Selector: "div.article__content"}, 0, kindSelector, `full_text.selector "div.article__content" matched nothing`},
		{"selector removed first", storyPage, fullTextRules{Selector: "div.story", Remove: []string{".story"}}, 0, kindSelector, "matched nothing"},
		{"invalid selector", storyPage, fullTextRules{Selector: "div["}, 0, kindSelector, `invalid CSS selector "div["`},
		{"invalid remove selector", storyPage, fullTextRules{Remove: []string{"p", "..x"}}, 0, kindSelector, `full_text.remove: invalid CSS selector "..x"`},
		{"empty page", "", fullTextRules{}, 0, kindNoArticle, "no article found"},
		{"images only", `<html><body><img src="a.png"></body></html>`, fullTextRules{}, 0, kindNoArticle, "no article found"},
		{"too many elements", "<html><body>" + strings.Repeat("<span>x</span>", maxPageElements) + story + "</body></html>", fullTextRules{}, 0, kindTooLarge, "more than 20000 elements"},
		{"nested too deep", strings.Repeat("<div>", 100_000) + story, fullTextRules{}, 0, kindParse, "exceeds 512"},
		{"deep and wide", string(towers(95, 100, "<p>words</p>")) + story, fullTextRules{}, 0, kindTooLarge, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := extract([]byte(tt.page), mustURL(t, "https://news.example/a/1"), tt.rules, tt.summaryChars)
			if err == nil {
				t.Fatalf("extract() = %.80q, want a %s error", got, tt.kind)
			}
			if k := ErrorKind(err); k != tt.kind {
				t.Errorf("extract() kind = %q, want %q (%v)", k, tt.kind, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "extract https://news.example/a/1: ") || !strings.Contains(msg, tt.msg) {
				t.Errorf("extract() error = %q, want it to name the page and say %q", msg, tt.msg)
			}
		})
	}
}

// TestExtractSelectorOutermost: a selector matching an element and one
// inside it gives the text once, and several matches come in page order.
func TestExtractSelectorOutermost(t *testing.T) {
	para := func(s string) string { return "<p>" + s + strings.Repeat(" and more words of it", 10) + ".</p>" }
	page := "<html><body><div class=part>" + para("First part") + "<div class=part>" + para("Inner part") + "</div></div>" +
		"<nav>Menu</nav><div class=part>" + para("Second part") + "</div></body></html>"
	got, _, err := extract([]byte(page), mustURL(t, "https://news.example/a"), fullTextRules{Selector: "div.part, p"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	text := newsdesk.HTMLText(got)
	for _, s := range []string{"First part", "Inner part", "Second part"} {
		if n := strings.Count(text, s); n != 1 {
			t.Errorf("extract() has %q %d times, want once: %s", s, n, text)
		}
	}
	if i, j, k := strings.Index(text, "First"), strings.Index(text, "Inner"), strings.Index(text, "Second"); !(i < j && j < k) {
		t.Errorf("extract() out of page order: %s", text)
	}
	if strings.Contains(text, "Menu") {
		t.Errorf("extract() kept text outside the matches: %s", text)
	}
}

// TestExtractResolvesURLs: relative links and images come out absolute,
// against the page's URL or its <base href>, whichever path found them.
func TestExtractResolvesURLs(t *testing.T) {
	body := `<article class="story"><h1>Title</h1>` +
		`<p>` + strings.Repeat("Words of the story, told at length. ", 12) + `<a href="../other/story">a link</a> and <a href="//cdn.example.org/x">another</a>.</p>` +
		`<figure><img src="img/photo.jpg" srcset="img/photo-640.jpg 640w, /img/photo-1280.jpg 1280w" alt="Photo"></figure>` +
		`<p>` + strings.Repeat("More of the story, told at length. ", 12) + `<a href="#note">a note</a>.</p></article>`
	pageURL := "https://news.example/world/2025/story.html"
	tests := []struct {
		name, head string
		rules      fullTextRules
		want       []string
	}{
		{"readability", "", fullTextRules{}, []string{
			`href="https://news.example/world/other/story"`, `href="https://cdn.example.org/x"`,
			`src="https://news.example/world/2025/img/photo.jpg"`,
			`srcset="https://news.example/world/2025/img/photo-640.jpg 640w, https://news.example/img/photo-1280.jpg 1280w"`,
		}},
		{"selector", "", fullTextRules{Selector: "article.story"}, []string{
			`href="https://news.example/world/other/story"`, `href="https://cdn.example.org/x"`,
			`src="https://news.example/world/2025/img/photo.jpg"`,
			`srcset="https://news.example/world/2025/img/photo-640.jpg 640w, https://news.example/img/photo-1280.jpg 1280w"`,
			`href="https://news.example/world/2025/story.html#note"`,
		}},
		{"selector, base href", `<base href="https://static.example/s/">`, fullTextRules{Selector: "article.story"}, []string{
			`href="https://static.example/other/story"`, `src="https://static.example/s/img/photo.jpg"`,
		}},
		{"readability, base href", `<base href="/s/">`, fullTextRules{}, []string{
			`href="https://news.example/other/story"`, `src="https://news.example/s/img/photo.jpg"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := "<html><head>" + tt.head + "</head><body>" + body + "</body></html>"
			got, _, err := extract([]byte(page), mustURL(t, pageURL), tt.rules, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("extract() lacks %s\nhtml: %s", w, got)
				}
			}
		})
	}
}

// TestExtractSanitizes: the article goes through the feed sanitizer.
func TestExtractSanitizes(t *testing.T) {
	story := strings.Repeat("The story goes on and on, sentence after sentence. ", 12)
	page := `<html><head><style>p{color:red}</style></head><body><article class="story">` +
		`<p onclick="steal()" style="font-size:40px">` + story + `<script>alert(1)</script></p>` +
		`<iframe src="https://evil.example/frame"></iframe><object data="x.swf"></object>` +
		`<p><a href="javascript:alert(2)">click</a> <img src="x.png" onerror="alert(3)"> ` + story + `</p>` +
		`<form action="/post"><input name="q"></form></article></body></html>`
	for _, rules := range []fullTextRules{{}, {Selector: "article.story"}} {
		t.Run(fmt.Sprintf("selector %q", rules.Selector), func(t *testing.T) {
			got, _, err := extract([]byte(page), mustURL(t, "https://news.example/a"), rules, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"<script", "alert(", "<style", "color:red", "<iframe", "<object", "onclick", "onerror", "style=", "javascript:", "<form", "<input"} {
				if strings.Contains(got, bad) {
					t.Errorf("extract() kept %q\nhtml: %s", bad, got)
				}
			}
			if !strings.Contains(got, "The story goes on and on") {
				t.Errorf("extract() lost the story: %s", got)
			}
		})
	}
}

func TestCheckSelector(t *testing.T) {
	for _, ok := range []string{"div.article__content", "article.story, div.body", "#main > p", `div[data-kind="notice"]`, "p:not(.ad)"} {
		if err := CheckSelector(ok); err != nil {
			t.Errorf("CheckSelector(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "  ", "div[", "..x", "p:nosuch", "a >"} {
		if err := CheckSelector(bad); err == nil {
			t.Errorf("CheckSelector(%q) = nil, want an error", bad)
		}
	}
	if err := CheckSelector("div["); !strings.Contains(err.Error(), `invalid CSS selector "div["`) {
		t.Errorf("CheckSelector(div[) = %q, want it to name the selector", err)
	}
}

// extractSeeds are the pages the fuzz test starts from.
func extractSeeds(t testing.TB) [][]byte {
	t.Helper()
	var seeds [][]byte
	for _, pattern := range []string{"testdata/articles/*.html", "testdata/articles/corpus/*.html"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, b)
		}
	}
	if len(seeds) < 10 {
		t.Fatalf("found %d seed pages, want the testdata/articles pages", len(seeds))
	}
	return seeds
}

// FuzzExtract: no input panics, and whatever comes out is a sanitized
// article of at least minArticleChars or an error of a known kind.
func FuzzExtract(f *testing.F) {
	for _, s := range extractSeeds(f) {
		f.Add(s, "")
		f.Add(s, "article, div.story")
	}
	f.Add([]byte(strings.Repeat("<b><i><a>", 3000)+"x"), "")
	f.Add([]byte(strings.Repeat("<div>", 600)), "div")
	kinds := map[string]bool{kindParse: true, kindTooLarge: true, kindSelector: true, kindNoArticle: true, kindTooShort: true}
	u, _ := url.Parse("https://news.example/a/b")
	f.Fuzz(func(t *testing.T, page []byte, selector string) {
		if CheckSelector(selector) != nil {
			selector = ""
		}
		got, chars, err := extract(page, u, fullTextRules{Selector: selector}, 0)
		if err != nil {
			if !kinds[ErrorKind(err)] {
				t.Fatalf("extract() error of kind %q: %v", ErrorKind(err), err)
			}
			return
		}
		if chars < minArticleChars || !utf8.ValidString(got) || strings.Contains(strings.ToLower(got), "<script") {
			t.Fatalf("extract() = %d chars, valid UTF-8 %v: %.200q", chars, utf8.ValidString(got), got)
		}
	})
}

// BenchmarkExtract measures news pages, a wide page near the element cap,
// a page nested nearly as deep as the parser allows, and both at once.
func BenchmarkExtract(b *testing.B) {
	para := "<p>" + strings.Repeat("word ", 40) + "</p>"
	pages := []struct {
		name  string
		page  []byte
		rules fullTextRules
	}{
		{"moscowtimes", articlePage(b, "moscowtimes.html", ""), fullTextRules{}},
		{"moscowtimes-selector", articlePage(b, "moscowtimes.html", ""), fullTextRules{Selector: "div.article__content", Remove: []string{".social-share"}}},
		{"wikipedia", articlePage(b, "corpus/miniflux_wikipedia.html", ""), fullTextRules{}},
		{"wide-19k", []byte("<html><body>" + strings.Repeat("<div>"+para+"</div>", 9_000) + "</body></html>"), fullTextRules{}},

		// Deep and wide at once, just inside maxPageDepthSum.
		{"towers-18x100", towers(18, 100, para), fullTextRules{}},
		{"towers-1x400", towers(1, 400, para), fullTextRules{}},
	}
	u, _ := url.Parse("https://news.example/a")
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.page)))
			for b.Loop() {
				if _, _, err := extract(p.page, u, p.rules, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// towers is a page of n towers of depth nested <div>s, each with a paragraph.
func towers(n, depth int, para string) []byte {
	tower := strings.Repeat("<div>"+para, depth) + strings.Repeat("</div>", depth)
	return []byte("<html><body>" + strings.Repeat(tower, n) + "</body></html>")
}

// TestPageWeight: real pages stay well inside the bounds, pages built to
// be slow do not.
func TestPageWeight(t *testing.T) {
	para := "<p>words</p>"
	tests := []struct {
		name string
		page []byte
		fits bool
	}{
		{"moscowtimes", articlePage(t, "moscowtimes.html", ""), true},
		{"wikipedia", articlePage(t, "corpus/miniflux_wikipedia.html", ""), true},
		{"github", articlePage(t, "corpus/miniflux_github.html", ""), true},
		{"windows-1251", articlePage(t, "../../../internal/charset/testdata/html/windows_1251.html", ""), true}, // charset's copy
		{"wide 19k", []byte("<html><body>" + strings.Repeat("<div>"+para+"</div>", 9_000) + "</body></html>"), true},
		{"towers 95x100", towers(95, 100, para), false},
		{"one tower 400 deep", towers(1, 400, para), true},
		{"one tower 500 deep", towers(1, 500, para), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := xhtml.Parse(bytes.NewReader(tt.page))
			if err != nil {
				t.Fatal(err)
			}
			n, d := pageWeight(doc, maxPageElements, maxPageDepthSum)
			t.Logf("%d elements, sum of depths %d", n, d)
			if fits := n <= maxPageElements && d <= maxPageDepthSum; fits != tt.fits {
				t.Errorf("pageWeight() = %d elements, depth sum %d: fits %v, want %v", n, d, fits, tt.fits)
			}
		})
	}
}
