package fetcher

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// laughs is the DOCTYPE of a "billion laughs" bomb: &lol9; expands to 10^9
// "lol"s, 3 GB, from a few hundred bytes of declarations.
func laughs(root string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE %s [<!ENTITY lol0 "lol">`, root)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	b.WriteString("]>")
	return b.String()
}

// TestFetchEntityBomb: entities declared in a feed's DOCTYPE are never
// expanded (Go's XML decoder, under gofeed, does not read DTDs), so a
// billion-laughs feed parses into items that carry the reference as text,
// in bounded memory and at once.
func TestFetchEntityBomb(t *testing.T) {
	tests := []struct {
		name, contentType, body string
	}{
		{"rss", "application/rss+xml", `<?xml version="1.0"?>` + laughs("rss") +
			`<rss version="2.0"><channel><title>&lol9;</title><link>https://bomb.example/</link>` +
			`<item><guid>bomb-1</guid><title>A &lol9; B</title><link>https://bomb.example/1</link>` +
			`<description>&lol9;</description><author>&lol9;</author><category>&lol9;</category></item></channel></rss>`},
		{"atom", "application/atom+xml", `<?xml version="1.0"?>` + laughs("feed") +
			`<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol9;</title><id>tag:bomb.example,2026:feed</id>` +
			`<updated>2026-11-26T10:00:00Z</updated><author><name>&lol9;</name></author>` +
			`<entry><id>bomb-1</id><title>A &lol9; B</title><updated>2026-11-26T10:00:00Z</updated>` +
			`<link href="https://bomb.example/1"/><content type="html">&lol9;</content></entry></feed>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.on("/feed", serve([]byte(tt.body), header("Content-Type", tt.contentType)))

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			resp, err := o.fetch("/feed", newsdesk.FetchState{})
			runtime.ReadMemStats(&after)

			if err != nil {
				t.Fatalf("Fetch() error = %v, want the feed parsed with its entities unexpanded", err)
			}
			if len(resp.Items) != 1 {
				t.Fatalf("Fetch() items = %d, want 1", len(resp.Items))
			}
			if got := resp.Items[0].Title; got != "A &lol9; B" {
				t.Errorf("item title = %q, want the reference kept as text, %q", got, "A &lol9; B")
			}
			// Nothing anywhere in the result grew: the whole response,
			// every field of every item, stays near the body's size.
			all := marshal(t, resp)
			if len(all) > 4*len(tt.body) {
				t.Errorf("Fetch() result is %d bytes for a %d-byte body: an entity was expanded", len(all), len(tt.body))
			}
			if strings.Contains(all, "lollol") {
				t.Errorf("Fetch() result contains an expansion of &lol1;: %.200s", all)
			}
			// Expanding even &lol6; would allocate 3 MB per use.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("Fetch() allocated %d MiB for a %d-byte feed", alloc>>20, len(tt.body))
			}
		})
	}
}

// TestFetchXXE: external entities are never resolved. A feed whose DOCTYPE
// declares an entity for a local file, or pulls in an external DTD over
// HTTP (as the DOCTYPE's system id or as a parameter entity), parses
// without that file's content in any field and without a request for the
// DTD.
func TestFetchXXE(t *testing.T) {
	secretPath := filepath.Join(t.TempDir(), "secret.txt")
	const secret = "s3cr3t-0f-th3-h0st"
	if err := os.WriteFile(secretPath, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	o := newOrigin(t)
	var dtdRequests atomic.Int32
	// The DTD an expanding parser would fetch: it defines &ext; as the
	// secret file, and would smuggle it out in a second request.
	o.on("/evil.dtd", func(w http.ResponseWriter, r *http.Request) {
		dtdRequests.Add(1)
		w.Header().Set("Content-Type", "application/xml-dtd")
		fmt.Fprintf(w, `<!ENTITY ext SYSTEM "file://%s">`, secretPath)
	})
	dtd := o.url("/evil.dtd")
	item := `<item><guid>xxe-1</guid><title>A &%[1]s; B</title><link>https://xxe.example/&%[1]s;</link>` +
		`<description>&%[1]s;</description><enclosure url="https://xxe.example/&%[1]s;.mp3" type="audio/mpeg" length="1"/></item>`
	tests := []struct {
		name, doctype, entity string
	}{
		{"file entity", `<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://` + secretPath + `">]>`, "xxe"},
		{"file entity, public id", `<!DOCTYPE rss [<!ENTITY xxe PUBLIC "-//X//Y" "file://` + secretPath + `">]>`, "xxe"},
		{"external dtd", `<!DOCTYPE rss SYSTEM "` + dtd + `">`, "ext"},
		{"parameter entity", `<!DOCTYPE rss [<!ENTITY % remote SYSTEM "` + dtd + `"> %remote;]>`, "ext"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `<?xml version="1.0"?>` + tt.doctype + `<rss version="2.0"><channel><title>&` + tt.entity +
				`;</title><link>https://xxe.example/</link>` + fmt.Sprintf(item, tt.entity) + `</channel></rss>`
			o.on("/feed", serve([]byte(body), header("Content-Type", "application/rss+xml")))
			resp, err := o.fetch("/feed", newsdesk.FetchState{})
			if err != nil {
				t.Fatalf("Fetch() error = %v, want the feed parsed with its entities unresolved", err)
			}
			if len(resp.Items) != 1 {
				t.Fatalf("Fetch() items = %d, want 1", len(resp.Items))
			}
			if want := "A &" + tt.entity + "; B"; resp.Items[0].Title != want {
				t.Errorf("item title = %q, want the reference kept as text, %q", resp.Items[0].Title, want)
			}
			if all := marshal(t, resp); strings.Contains(all, secret) {
				t.Errorf("Fetch() result contains the secret file's content: %.300s", all)
			}
			if n := dtdRequests.Load(); n != 0 {
				t.Errorf("the origin was asked for the external DTD %d times, want never", n)
			}
		})
	}
}

// marshal is every field of a fetch result as one string, to search.
func marshal(t *testing.T, resp *Response) string {
	t.Helper()
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
