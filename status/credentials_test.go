package status

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestNoSecretInStatus collects the rows of sources whose URLs hold
// userinfo (one moved, one removed from feeds.yaml) and which send Basic
// auth and a header, and checks that no form of the report (text, JSON,
// short, the /status page) shows a secret value, while each shows the
// redacted URLs.
func TestNoSecretInStatus(t *testing.T) {
	const password, key, orphanPassword = "pw-Zq7-secret", "key-Wx9-secret", "old-pw-secret"
	wire := newsdesk.Source{ID: "wire", URL: "https://newsdesk:" + password + "@wire.example/feed",
		Auth:    &newsdesk.BasicAuth{Username: "newsdesk", Password: password},
		Headers: []newsdesk.Header{{Name: "X-Api-Key", Value: key}}}
	cfg := policy
	cfg.Sources = []newsdesk.Source{wire}
	db := openStore(t,
		newsdesk.FetchState{SourceID: "wire", URL: wire.URL, Result: newsdesk.ResultError, Failures: 2,
			Error:   "credentials refused: HTTP 401 Unauthorized (check auth/headers, or the environment variables they name)",
			MovedTo: "https://newsdesk:" + password + "@wire.example/new", LastFetch: now.Add(-time.Minute), NextDue: now.Add(time.Hour),
			History: []newsdesk.Attempt{{At: now.Add(-time.Minute), Result: newsdesk.ResultError, Kind: "auth"}}},
		newsdesk.FetchState{SourceID: "old", URL: "https://u:" + orphanPassword + "@old.example/feed", Result: newsdesk.ResultOK},
	)
	rows, err := Collect(cfg, db, []Orphan{{SourceID: "old", Items: 1}}, now)
	if err != nil {
		t.Fatal(err)
	}
	var text, js, short, page bytes.Buffer
	if err := WriteText(&text, rows, now); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, rows); err != nil {
		t.Fatal(err)
	}
	if err := WriteShort(&short, rows, now, 200); err != nil {
		t.Fatal(err)
	}
	if err := (Page{Config: "feeds.yaml", Rows: rows}).WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "json": js.String(), "short": short.String(), "page": page.String()} {
		for _, secret := range append(wire.Secrets(), orphanPassword) {
			if strings.Contains(out, secret) {
				t.Errorf("status %s shows the secret %q:\n%s", name, secret, out)
			}
		}
		if name != "short" && !strings.Contains(out, "newsdesk:xxxxx@wire.example") {
			t.Errorf("status %s lacks the redacted URL newsdesk:xxxxx@wire.example:\n%s", name, out)
		}
	}
	if rows[0].MovedTo != "https://newsdesk:xxxxx@wire.example/new" || rows[1].URL != "https://u:xxxxx@old.example/feed" {
		t.Errorf("rows = moved_to %q, orphan url %q; want both redacted", rows[0].MovedTo, rows[1].URL)
	}
}
