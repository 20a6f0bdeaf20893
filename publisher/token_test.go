package publisher

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWrongTokenLooksLikeNoSection: a private section answers a wrong token
// exactly as it answers a section that does not exist, whether the guess
// is right but for one byte, a prefix of the token, the token with more
// after it, or of another length: same status, headers and body, so that
// nothing but the whole token tells that the section is there. The
// comparison itself (newsdesk.TokenEqual) is crypto/subtle's constant-time one, so
// that its duration does not tell how much of a guess was right either;
// a test cannot measure that honestly, so it is not timed here.
func TestWrongTokenLooksLikeNoSection(t *testing.T) {
	ts, _, _ := newTestServer(t)
	lastByte := testToken[:len(testToken)-1] + string(testToken[len(testToken)-1]^1)
	firstByte := string(testToken[0]^1) + testToken[1:]
	guesses := map[string]string{
		"wrong last byte, same length":  lastByte,
		"wrong first byte, same length": firstByte,
		"upper case":                    strings.ToUpper(testToken),
		"prefix":                        testToken[:len(testToken)-1],
		"token and more":                testToken + "x",
		"token twice":                   testToken + testToken,
		"padded with spaces":            " " + testToken + " ",
		"short":                         "x",
		"long":                          strings.Repeat("x", 4096),
	}
	for _, ext := range []string{".rss", ".atom", ".json", ".html", ""} {
		missing, missingBody := do(t, "GET", ts.URL+"/sections/no-such-section"+ext, nil)
		if missing.StatusCode != http.StatusNotFound {
			t.Fatalf("GET /sections/no-such-section%s = %d, want 404", ext, missing.StatusCode)
		}
		for name, guess := range guesses {
			resp, body := do(t, "GET", ts.URL+"/sections/secret"+ext+"?token="+url.QueryEscape(guess), nil)
			if resp.StatusCode != http.StatusNotFound || !bytes.Equal(body, missingBody) {
				t.Errorf("%s, %s: GET = %d %q, want %d %q as for a section that does not exist", ext, name, resp.StatusCode, body, missing.StatusCode, missingBody)
			}
			for _, h := range []string{"Content-Type", "Content-Length", "Cache-Control", "ETag", "Last-Modified", "Vary"} {
				if got, want := resp.Header.Get(h), missing.Header.Get(h); got != want {
					t.Errorf("%s, %s: %s = %q, want %q as for a section that does not exist", ext, name, h, got, want)
				}
			}
		}
	}
	// The right token still opens it: the guesses were refused for being
	// wrong, not because the section cannot be reached.
	if resp, _ := do(t, "GET", ts.URL+"/sections/secret.rss?token="+url.QueryEscape(testToken), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /sections/secret.rss with its token = %d, want 200", resp.StatusCode)
	}
}
