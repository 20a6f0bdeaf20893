package main

import (
	"fmt"
	"html"
	"math/rand/v2"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// A feed is one generated source: its body as served and how it is served.
type feed struct {
	id          string
	body        []byte
	contentType string
	etag        string
	kind        string // "rss", "atom" or "rss-cp1251"
}

// Words for generated text: English and Russian, so that the windows-1251
// feeds carry text that needs the charset.
var (
	enWords = strings.Fields(`government minister said on tuesday that the new budget would
		include funding for schools hospitals and roads after months of talks between
		parties officials expect the measure to pass before the summer recess while critics
		warned about rising debt markets reacted calmly and the central bank kept rates
		unchanged analysts noted growth in exports energy prices fell sharply this week`)
	ruWords = strings.Fields(`правительство заявило во вторник что новый бюджет включит
		финансирование школ больниц и дорог после месяцев переговоров между партиями
		чиновники ожидают принятия меры до летних каникул критики предупредили о росте
		долга рынки отреагировали спокойно центральный банк сохранил ставку аналитики`)
)

// genFeeds makes n feeds of items items each, the same for the same seed:
// every fifth is Atom, every seventh (not Atom) is RSS in windows-1251, the
// rest UTF-8 RSS; every third item carries HTML content beside its
// description. Item dates are the hours before base, so retention keeps
// them.
func genFeeds(n, items int, seed uint64, base time.Time) []feed {
	out := make([]feed, n)
	for i := range out {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		f := feed{id: sourceID(i)}
		switch {
		case i%5 == 4:
			f.kind, f.contentType = "atom", "application/atom+xml"
			f.body = atomFeed(r, f.id, items, base)
		case i%7 == 6:
			f.kind, f.contentType = "rss-cp1251", "application/rss+xml"
			f.body = cp1251(rssFeed(r, f.id, genItems(r, f.id, items, base, ruWords), base, ruWords, "windows-1251"))
		default:
			f.kind, f.contentType = "rss", "application/rss+xml; charset=utf-8"
			f.body = rssFeed(r, f.id, genItems(r, f.id, items, base, enWords), base, enWords, "utf-8")
		}
		f.etag = fmt.Sprintf(`"%s-%x"`, f.id, r.Uint64())
		out[i] = f
	}
	return out
}

// sourceID is the id of source i in feeds.yaml.
func sourceID(i int) string { return fmt.Sprintf("s%05d", i) }

// cp1251 encodes a generated UTF-8 body (all of whose characters windows-1251
// has) as windows-1251.
func cp1251(b []byte) []byte {
	out, err := charmap.Windows1251.NewEncoder().Bytes(b)
	if err != nil {
		panic(fmt.Sprintf("fixture text outside windows-1251: %v", err))
	}
	return out
}

// sentence is count random words from words, capitalized, with a full stop.
func sentence(r *rand.Rand, words []string, count int) string {
	ws := make([]string, count)
	for i := range ws {
		ws[i] = words[r.IntN(len(words))]
	}
	s := strings.Join(ws, " ")
	rs := []rune(s)
	return strings.ToUpper(string(rs[0])) + string(rs[1:]) + "."
}

// paragraphs is HTML a news site would put in an item: paragraphs with a
// link, a relative image, and the odd thing a sanitizer must remove.
func paragraphs(r *rand.Rand, words []string, count int) string {
	var b strings.Builder
	for p := range count {
		fmt.Fprintf(&b, "<p>%s %s <a href=\"/story/%d\">%s</a> %s</p>\n",
			sentence(r, words, 12+r.IntN(10)), sentence(r, words, 8+r.IntN(8)),
			r.IntN(1e6), sentence(r, words, 3), sentence(r, words, 10+r.IntN(10)))
		switch {
		case p == 0:
			fmt.Fprintf(&b, "<img src=\"/img/%d.jpg\" alt=\"%s\" width=\"640\">\n", r.IntN(1e6), sentence(r, words, 4))
		case p == 1 && r.IntN(4) == 0:
			b.WriteString("<script>track('view')</script><div style=\"color:red\" onclick=\"x()\">ad</div>\n")
		}
	}
	return b.String()
}

type genItem struct {
	title, link, guid, summary, content string
	date                                time.Time
}

func genItems(r *rand.Rand, id string, items int, base time.Time, words []string) []genItem {
	out := make([]genItem, items)
	for j := range out {
		date := base.Add(-time.Duration(j)*time.Hour - time.Duration(r.IntN(3600))*time.Second)
		out[j] = genItem1(r, id, fmt.Sprint(j), date, words, j%3 == 0)
	}
	return out
}

// genItem1 is one item of source id, named name in its link, with HTML
// content beside its summary when content is set.
func genItem1(r *rand.Rand, id, name string, date time.Time, words []string, content bool) genItem {
	it := genItem{
		title: sentence(r, words, 6+r.IntN(6)),
		link:  fmt.Sprintf("https://%s.example/news/%d/%s-%s", id, 2026, id, name),
		date:  date,
	}
	it.guid = it.link
	it.summary = "<p>" + sentence(r, words, 25+r.IntN(20)) + "</p>"
	if content {
		it.content = paragraphs(r, words, 3+r.IntN(4))
	}
	return it
}

func rssFeed(r *rand.Rand, id string, items []genItem, base time.Time, words []string, enc string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="%s"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
<title>%s news</title>
<link>https://%s.example/</link>
<description>%s</description>
<lastBuildDate>%s</lastBuildDate>
`, enc, id, id, sentence(r, words, 8), base.Format(time.RFC1123Z))
	for _, it := range items {
		fmt.Fprintf(&b, "<item>\n<title>%s</title>\n<link>%s</link>\n<guid isPermaLink=\"true\">%s</guid>\n<pubDate>%s</pubDate>\n<description>%s</description>\n",
			html.EscapeString(it.title), it.link, it.guid, it.date.Format(time.RFC1123Z), html.EscapeString(it.summary))
		if it.content != "" {
			fmt.Fprintf(&b, "<content:encoded><![CDATA[%s]]></content:encoded>\n", it.content)
		}
		b.WriteString("</item>\n")
	}
	b.WriteString("</channel>\n</rss>\n")
	return []byte(b.String())
}

func atomFeed(r *rand.Rand, id string, items int, base time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>%s news</title>
<id>urn:newsdesk-bench:%s</id>
<link href="https://%s.example/"/>
<updated>%s</updated>
<author><name>%s desk</name></author>
`, id, id, id, base.Format(time.RFC3339), id)
	for _, it := range genItems(r, id, items, base, enWords) {
		fmt.Fprintf(&b, "<entry>\n<title>%s</title>\n<link href=\"%s\"/>\n<id>%s</id>\n<updated>%s</updated>\n<summary type=\"html\">%s</summary>\n",
			html.EscapeString(it.title), it.link, it.guid, it.date.Format(time.RFC3339), html.EscapeString(it.summary))
		if it.content != "" {
			fmt.Fprintf(&b, "<content type=\"html\">%s</content>\n", html.EscapeString(it.content))
		}
		b.WriteString("</entry>\n")
	}
	b.WriteString("</feed>\n")
	return []byte(b.String())
}
