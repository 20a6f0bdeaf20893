package publisher

import (
	"encoding/json"
	"encoding/xml"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// advertised returns the rel="hub" and rel="self" links a section file's
// body advertises, in the order it gives them.
func advertised(t *testing.T, path string, b []byte) (hubs []string, self string) {
	t.Helper()
	type link struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr"`
	}
	var links []link
	switch {
	case strings.HasSuffix(path, ".atom"):
		var doc struct {
			Links []link `xml:"http://www.w3.org/2005/Atom link"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		links = doc.Links
	case strings.HasSuffix(path, ".rss"):
		var doc struct {
			Channel struct {
				Links []link `xml:"http://www.w3.org/2005/Atom link"`
			} `xml:"channel"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		links = doc.Channel.Links
	case strings.HasSuffix(path, ".json"):
		var doc struct {
			FeedURL string `json:"feed_url"`
			Hubs    []struct {
				Type, URL string
			} `json:"hubs"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		links = append(links, link{Href: doc.FeedURL, Rel: "self"})
		for _, h := range doc.Hubs {
			if h.Type != "WebSub" {
				t.Errorf("%s: hub %q has type %q, want WebSub", path, h.URL, h.Type)
			}
			links = append(links, link{Href: h.URL, Rel: "hub"})
		}
	case strings.HasSuffix(path, ".html"):
		re := regexp.MustCompile(`<link rel="(hub|self)" href="([^"]*)">`)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			links = append(links, link{Href: strings.ReplaceAll(m[2], "&#43;", "+"), Rel: m[1]})
		}
	}
	for _, l := range links {
		switch l.Rel {
		case "hub":
			hubs = append(hubs, l.Href)
		case "self":
			if self != "" {
				t.Errorf("%s: two rel=self links, %q and %q", path, self, l.Href)
			}
			self = l.Href
		}
	}
	return hubs, self
}

// selfOf is the canonical URL of the fixture's file at path.
func selfOf(path string) string {
	self := "http://localhost:8080/" + path
	if strings.Contains(path, "secret") {
		self += "?token=" + url.QueryEscape(testToken)
	}
	return self
}

// TestWebSubLinks checks that every section feed and page advertises each
// configured hub, in order, and its own URL as rel="self", in its body and
// in the Link header it is served with, on a 200 and on a 304.
func TestWebSubLinks(t *testing.T) {
	ts, s, _ := newTestServer(t)
	site := s.site.Load()
	for _, path := range allPaths(site) {
		if !strings.HasPrefix(path, "sections/") {
			continue
		}
		t.Run(path, func(t *testing.T) {
			self := selfOf(path)
			hubs, gotSelf := advertised(t, path, body(t, site, path))
			if !slices.Equal(hubs, testHubs) || gotSelf != self {
				t.Errorf("body: hubs %q, self %q; want %q, %q", hubs, gotSelf, testHubs, self)
			}
			want := `<http://localhost:8080/websub>; rel="hub", <https://hub.example/>; rel="hub", <` + self + `>; rel="self"`
			u := ts.URL + urlPath(path)
			if strings.Contains(path, "secret") {
				u += "?token=" + url.QueryEscape(testToken)
			}
			resp, _ := do(t, "GET", u, nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Link") != want {
				t.Fatalf("GET %s: %d, Link %q; want 200, %q", u, resp.StatusCode, resp.Header.Get("Link"), want)
			}
			resp, _ = do(t, "GET", u, http.Header{"If-None-Match": {resp.Header.Get("Etag")}})
			if resp.StatusCode != http.StatusNotModified || resp.Header.Get("Link") != want {
				t.Errorf("GET %s again: %d, Link %q; want 304, %q", u, resp.StatusCode, resp.Header.Get("Link"), want)
			}
		})
	}
	// The index and the OPML list are no topics.
	for _, p := range []string{"/", "/sections.opml"} {
		if resp, _ := do(t, "GET", ts.URL+p, nil); resp.Header.Get("Link") != "" {
			t.Errorf("GET %s: Link %q, want none", p, resp.Header.Get("Link"))
		}
	}
}

// TestWebSubNoHubs: without hubs (a static export without
// publish.websub_hubs) no file advertises one, no Link header is sent, and
// each still names itself.
func TestWebSubNoHubs(t *testing.T) {
	st, cfg := fixture(t)
	cfg.Hubs = nil
	s := NewServer(st, cfg, nil)
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	site := s.site.Load()
	for _, path := range site.Paths() {
		if !strings.HasPrefix(path, "sections/") {
			continue
		}
		hubs, self := advertised(t, path, body(t, site, path))
		if len(hubs) != 0 || self != selfOf(path) {
			t.Errorf("%s: hubs %q, self %q; want none, %q", path, hubs, self, selfOf(path))
		}
		if resp, _ := do(t, "GET", ts.URL+urlPath(path), nil); resp.StatusCode != 200 || resp.Header["Link"] != nil {
			t.Errorf("GET %s: %d, Link %q; want 200 and none", path, resp.StatusCode, resp.Header["Link"])
		}
	}
}

// TestWebSubHubsNotHashed: serve (its own hub and external ones) and the
// export (external ones only, or none) record the same section versions
// for the same content.
func TestWebSubHubsNotHashed(t *testing.T) {
	var hashes []map[string]string
	for _, hubs := range [][]string{testHubs, {"https://hub.example/"}, nil} {
		st, cfg := fixture(t)
		cfg.Hubs = hubs
		if _, err := Render(st, cfg); err != nil {
			t.Fatal(err)
		}
		h := map[string]string{}
		for id, v := range st.versions {
			h[id] = v.Hash
		}
		hashes = append(hashes, h)
	}
	for i := 1; i < len(hashes); i++ {
		if len(hashes[i]) != 3 || !maps.Equal(hashes[0], hashes[i]) {
			t.Errorf("hashes with hubs %d = %v, want %v as with the first", i, hashes[i], hashes[0])
		}
	}
}
