package status

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// articleRows are longRows with the first source on full_text.
func articleRows() []Row {
	rows := longRows()
	rows[0].Articles = &Articles{Fetched: 12, Failed: 2, GaveUp: 1, Refused: 1, Pending: 3, Retrying: 1,
		LastError: "http 404 Not Found", LastErrorAt: new(now.Add(-2 * time.Hour))}
	rows[0].Notes = append(rows[0].Notes, articleNote(rows[0].Articles, now))
	return rows
}

func TestArticleNote(t *testing.T) {
	a := &Articles{LastError: "too_short: 120 characters", LastErrorAt: new(now.Add(-90 * time.Minute))}
	want := "last article error " + now.Add(-90*time.Minute).Local().Format("2006-01-02 15:04:05") + " (1h30m0s ago): too_short: 120 characters"
	if got := articleNote(a, now); got != want {
		t.Errorf("articleNote() = %q, want %q", got, want)
	}
	if got := articleNote(&Articles{Fetched: 3}, now); got != "" {
		t.Errorf("articleNote() without an error = %q, want none", got)
	}
}

func TestWriteTextArticles(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, articleRows(), now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.Contains(lines[0], "ITEMS  ARTICLES") || !strings.Contains(lines[0], "ARTICLES                         NEXT DUE") {
		t.Errorf("WriteText() header = %q, want ARTICLES between ITEMS and NEXT DUE", lines[0])
	}
	if !strings.Contains(lines[1], " 5      12 fetched, 2 failed, 3 pending  ") || !strings.Contains(lines[1], "last article error ") {
		t.Errorf("WriteText() full-text row = %q, want its counts and last error", lines[1])
	}
	if !strings.Contains(lines[2], " 0      -                                ") {
		t.Errorf("WriteText() row without full_text = %q, want - under ARTICLES", lines[2])
	}
}

func TestWriteShortArticles(t *testing.T) {
	for _, width := range []int{80, 100} {
		var b bytes.Buffer
		if err := WriteShort(&b, articleRows(), now, width); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if !strings.Contains(lines[0], "ITEMS  ARTICLES  NEXT") || !strings.Contains(lines[1], "  5      12/2/3    in 10m") ||
			!strings.Contains(lines[2], "  0      -         never") {
			t.Errorf("WriteShort(%d) = %q, want an ARTICLES column with fetched/failed/pending and - for the other source", width, lines)
		}
		for _, l := range lines[:3] {
			if n := len([]rune(l)); n > width {
				t.Errorf("WriteShort(%d) line of %d columns: %q", width, n, l)
			}
		}
	}
}

func TestWriteJSONArticles(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, articleRows()); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	a, ok := got[0]["articles"].(map[string]any)
	if !ok {
		t.Fatalf("WriteJSON() = %s, want an articles object in the full-text row", b.String())
	}
	for k, want := range map[string]any{"fetched": 12.0, "failed": 2.0, "gave_up": 1.0, "disallowed": 0.0, "refused": 1.0,
		"pending": 3.0, "retrying": 1.0, "last_error": "http 404 Not Found", "last_error_at": "2026-11-25T10:00:00Z"} {
		if a[k] != want {
			t.Errorf("articles[%q] = %v, want %v", k, a[k], want)
		}
	}
	if _, ok := got[1]["articles"]; ok {
		t.Errorf("WriteJSON() row without full_text has articles: %v", got[1])
	}
}

func TestPageHTMLArticles(t *testing.T) {
	var b bytes.Buffer
	if err := (Page{Config: "feeds.yaml", Rows: articleRows()}).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<th class="n">Items</th><th>Articles</th><th>Last 48 fetches</th>`,
		`12 fetched<br>2 failed<br>3 pending</span></td>`,
		`title="gave up 1, disallowed by robots.txt 0, refused (private address) 1; failed and due again 1"`,
		"<td>-</td>",
		`<div class="notes">last article error `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteHTML() lacks %q:\n%s", want, out)
		}
	}
}

// TestNoArticlesNoColumn: without a full-text source, no form of status
// says anything of articles.
func TestNoArticlesNoColumn(t *testing.T) {
	var b bytes.Buffer
	rows := longRows()
	for _, err := range []error{
		WriteText(&b, rows, now), WriteShort(&b, rows, now, 100), WriteJSON(&b, rows),
		Page{Config: "feeds.yaml", Rows: rows}.WriteHTML(&b),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if out := strings.ToLower(b.String()); strings.Contains(out, "article") {
		t.Errorf("status without full-text sources mentions articles:\n%s", b.String())
	}
}

// TestCollectArticles reads a real store: a full-text source's row counts
// its article records and its items first seen since full_text came on
// that have none; a source without full_text has no articles; a full-text
// source not fetched yet counts nothing pending.
func TestCollectArticles(t *testing.T) {
	const feed = "https://www.themoscowtimes.com/rss/news"
	cfg := policy
	cfg.Sources = []newsdesk.Source{
		{ID: "moscow-times", URL: feed, FullText: newsdesk.FullText{Enabled: true, Attribution: true}},
		{ID: "plain", URL: "https://plain.example/feed"},
		{ID: "fresh", URL: "https://fresh.example/feed", FullText: newsdesk.FullText{Enabled: true}},
	}
	db := openStore(t, newsdesk.FetchState{SourceID: "plain", URL: "https://plain.example/feed", Result: newsdesk.ResultOK})
	since := now.Add(-3 * time.Hour)
	item := func(id string) newsdesk.Item {
		return newsdesk.Item{SourceID: "moscow-times", ID: feed + "/" + id, Title: id, Link: "https://www.themoscowtimes.com/" + id}
	}
	// old was stored before full_text came on: it is not pending.
	fetch := func(at time.Time, items ...newsdesk.Item) {
		t.Helper()
		st := newsdesk.FetchState{SourceID: "moscow-times", URL: feed, Result: newsdesk.ResultOK, LastFetch: at, LastSuccess: at, NextDue: now.Add(time.Minute)}
		if !at.Before(since) {
			st.FullTextSince = since
		}
		if _, err := db.SaveFetch(st, items, newsdesk.Retention{}); err != nil {
			t.Fatal(err)
		}
	}
	fetch(since.Add(-time.Hour), item("old"))
	fetch(since, item("ok"), item("gave-up"), item("retrying"), item("missing"), item("disallowed"))
	for _, a := range []newsdesk.Article{
		{ItemID: "ok", Status: newsdesk.ArticleOK, HTML: "<p>" + strings.Repeat("Story. ", 100) + "</p>", FetchedAt: now.Add(-150 * time.Minute)},
		{ItemID: "gave-up", Status: newsdesk.ArticleGaveUp, Error: "http 404 Not Found", Kind: "http_404", Attempts: 4, FetchedAt: now.Add(-2 * time.Hour)},
		{ItemID: "retrying", Status: newsdesk.ArticleFailed, Error: "timeout after 20s", Kind: "timeout", Attempts: 1, NextTry: now.Add(time.Hour), FetchedAt: now.Add(-time.Hour)},
		{ItemID: "disallowed", Status: newsdesk.ArticleDisallowed, Error: "robots.txt disallows /disallowed", Kind: "disallowed", FetchedAt: now.Add(-100 * time.Minute)},
	} {
		it := item(a.ItemID)
		a.SourceID, a.ItemID, a.Link, a.URL = it.SourceID, it.ID, it.Link, it.Link
		if err := db.SaveArticle(a, nil); err != nil {
			t.Fatal(err)
		}
	}

	rows, err := Collect(cfg, db, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	mt, plain, fresh := rows[0], rows[1], rows[2]
	want := Articles{Fetched: 1, Failed: 2, GaveUp: 1, Disallowed: 1, Pending: 2, Retrying: 1,
		LastError: "timeout after 20s", LastErrorAt: new(now.Add(-time.Hour))}
	if mt.Articles == nil || mt.Articles.LastErrorAt == nil || !mt.Articles.LastErrorAt.Equal(*want.LastErrorAt) {
		t.Fatalf("moscow-times articles = %+v, want %+v", mt.Articles, want)
	}
	got := *mt.Articles
	got.LastErrorAt = want.LastErrorAt
	if got != want {
		t.Errorf("moscow-times articles = %+v, want %+v", got, want)
	}
	if note := mt.Notes[len(mt.Notes)-1]; !strings.HasPrefix(note, "last article error ") || !strings.HasSuffix(note, "(1h0m0s ago): timeout after 20s") {
		t.Errorf("moscow-times notes = %q, want the last article error last", mt.Notes)
	}
	if plain.Articles != nil {
		t.Errorf("plain articles = %+v, want none: it has no full_text", plain.Articles)
	}
	if fresh.Articles == nil || *fresh.Articles != (Articles{}) {
		t.Errorf("fresh articles = %+v, want all zero: not fetched since full_text came on", fresh.Articles)
	}
}
