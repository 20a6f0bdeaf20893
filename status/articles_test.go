package status

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
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
