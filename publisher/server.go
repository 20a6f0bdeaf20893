package publisher

import (
	"bytes"
	"log/slog"
	"maps"
	"net/http"
	"net/textproto"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Server serves the current Site from memory. Rebuild and RebuildSections
// render a new one and swap it in whole, so a request sees either the old
// site or the new one, never a mix. Every body, its gzip encoding and its
// header values are computed when it is rendered; a request costs a map
// lookup and a write.
type Server struct {
	st     Store
	logger *slog.Logger

	cfg  atomic.Pointer[Config]
	site atomic.Pointer[Site]

	// rebuild serializes Rebuild and RebuildSections: each starts from the
	// site the one before it stored, so a slow render that started earlier
	// cannot replace the site of a later one, and none is lost.
	rebuild sync.Mutex
}

// NewServer returns a Server for the store's items. It serves 503 until the
// first Rebuild.
func NewServer(st Store, cfg Config, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{st: st, logger: logger}
	s.SetConfig(cfg)
	return s
}

// SetConfig replaces the configuration; the next Rebuild uses it.
func (s *Server) SetConfig(cfg Config) {
	// The caller may go on to change its slices; the sections and sources
	// themselves are not changed once configured.
	cfg.Sources = slices.Clone(cfg.Sources)
	cfg.Sections = slices.Clone(cfg.Sections)
	s.cfg.Store(&cfg)
}

// Rebuild renders every file again and swaps the new site in. On error the
// old site stays in place.
func (s *Server) Rebuild() error {
	s.rebuild.Lock()
	defer s.rebuild.Unlock()
	return s.rebuildAll()
}

func (s *Server) rebuildAll() error {
	cfg := s.cfg.Load()
	site, err := reread(func(pos position) (*Site, error) { return renderSite(s.st, cfg, pos) })
	if err != nil {
		return err
	}
	s.site.Store(site)
	s.logger.Debug("site rebuilt", "files", len(site.files))
	return nil
}

// RebuildSections renders the feeds and pages of the sections ids again, and
// the index page and OPML list, and swaps in a site that shares every other
// file with the current one. Before the first Rebuild, or after SetConfig,
// it renders everything. An id that is not a configured section is an error
// wrapping newsdesk.ErrNotFound; on any error the old site stays in place.
func (s *Server) RebuildSections(ids ...string) error {
	s.rebuild.Lock()
	defer s.rebuild.Unlock()
	old := s.site.Load()
	if old == nil || old.cfg != s.cfg.Load() {
		return s.rebuildAll()
	}
	site, err := reread(func(pos position) (*Site, error) { return old.rerender(s.st, ids, pos) })
	if err != nil {
		return err
	}
	s.site.Store(site)
	s.logger.Debug("sections rebuilt", "sections", ids)
	return nil
}

// ItemCounts returns how many items each section of the current site
// holds, by section id, as rendered: for metrics, without asking the store
// again.
func (s *Server) ItemCounts() map[string]int {
	out := map[string]int{}
	if site := s.site.Load(); site != nil {
		for _, v := range site.views {
			out[v.ID] = v.Count
		}
	}
	return out
}

// versions returns the version of each section of the current site, by
// section id: what its files' Last-Modified and updated dates say, and the
// hash of their content, the same in every instance and export that
// renders the same content. Empty before the first Rebuild.
func (s *Server) versions() map[string]newsdesk.SectionVersion {
	if site := s.site.Load(); site != nil {
		return maps.Clone(site.versions)
	}
	return map[string]newsdesk.SectionVersion{}
}

// Outdated reports whether the current site shows the source of st
// otherwise than st asks: the feed's title, links, id, updated date or
// authors, or the note a section without items gives about it (its last
// error) changed. A fetch that brought no new items re-renders the
// source's sections only then.
func (s *Server) Outdated(st newsdesk.FetchState) bool {
	site := s.site.Load()
	if site == nil {
		return true
	}
	i := slices.IndexFunc(site.cfg.Sources, func(src newsdesk.Source) bool { return src.ID == st.SourceID })
	if i < 0 {
		return false // not configured: shown nowhere
	}
	shown, ok := site.sources[st.SourceID]
	return !ok || !shown.same(newSource(site.cfg.Sources[i], st, true))
}

// ServeHTTP serves the routes of the site:
//
//	GET /                  index page
//	GET /sections.opml     OPML list of the section feeds
//	GET /sections/ID       the section's page, also as /sections/ID.html
//	GET /sections/ID.rss   RSS 2.0
//	GET /sections/ID.atom  Atom 1.0
//	GET /sections/ID.json  JSON Feed 1.1
//
// A private section's files answer only with ?token=TOKEN, and are 404
// otherwise; with it, / and /sections.opml list the section too. Anything
// else is 404; methods other than GET and HEAD are 405.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := sitePath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	site := s.site.Load()
	if site == nil {
		if !allowMethod(w, r) {
			return
		}
		http.Error(w, "starting up: the site has not been rendered yet", http.StatusServiceUnavailable)
		return
	}
	// The token is checked before anything else about the request, the
	// validators included: a private body's ETag must not answer 304 to
	// someone without the token.
	f := site.lookup(path, r)
	if f == nil {
		http.NotFound(w, r)
		return
	}
	if !allowMethod(w, r) {
		return
	}
	serveFile(w, r, f)
}

// lookup returns the file at path for the request, or nil: a private
// section's file only when the request carries its token, and the index page
// and OPML list that include the private sections of the token it carries.
func (s *Site) lookup(path string, r *http.Request) *file {
	f := s.files[path]
	if f == nil {
		return nil
	}
	list := path == "index.html" || path == "sections.opml"
	if f.token == "" && (!list || len(s.lists) == 0) {
		return f
	}
	if r.URL.RawQuery == "" {
		if f.token != "" {
			return nil
		}
		return f
	}
	token := r.URL.Query().Get("token")
	if f.token != "" {
		if newsdesk.TokenEqual(token, f.token) {
			return f
		}
		return nil
	}
	for _, l := range s.lists {
		if newsdesk.TokenEqual(token, l.token) {
			if path == "index.html" {
				return l.index
			}
			return l.opml
		}
	}
	return f
}

// Response header values shared by every response; never modified.
var (
	headerVary     = []string{"Accept-Encoding"}
	headerNosniff  = []string{"nosniff"}
	headerGzip     = []string{"gzip"}
	headerCSP      = []string{"default-src 'none'; style-src 'unsafe-inline'"}
	headerNoReferr = []string{"no-referrer"}
)

// serveFile answers a GET or HEAD for f: gzip when the request accepts it,
// 304 when a validator matches, else the body. The header map is filled
// with values computed at render time (keys in canonical form), so neither
// a 200 nor a 304 formats anything.
func serveFile(w http.ResponseWriter, r *http.Request, f *file) {
	enc := &f.hdr.identity
	if acceptsGzip(r.Header["Accept-Encoding"]) {
		enc = &f.hdr.gzip
	}
	h := w.Header()
	h["Vary"] = headerVary
	h["Cache-Control"] = f.hdr.cacheControl
	h["Etag"] = enc.etag
	if f.hdr.html && f.token != "" {
		h["Referrer-Policy"] = headerNoReferr
	}
	if f.hdr.link != nil {
		// A 304 carries it too: it names the hub a reader subscribes at.
		h["Link"] = f.hdr.link
	}

	if inm, ok := r.Header["If-None-Match"]; ok {
		// Either encoding's ETag proves the client holds the current body;
		// the 304 names the one it holds.
		switch matchETag(inm, f) {
		case matchIdentity:
			h["Etag"] = f.hdr.identity.etag
			w.WriteHeader(http.StatusNotModified)
			return
		case matchGzip:
			h["Etag"] = f.hdr.gzip.etag
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else if ims, ok := r.Header["If-Modified-Since"]; ok && notModifiedSince(ims[0], f) {
		w.WriteHeader(http.StatusNotModified)
		return
	}

	h["Content-Type"] = f.hdr.contentType
	h["X-Content-Type-Options"] = headerNosniff
	if f.hdr.html {
		h["Content-Security-Policy"] = headerCSP
	}
	if _, ok := r.Header["Range"]; ok && !enc.gzip {
		// Feed readers do not ask for ranges; ServeContent knows how.
		http.ServeContent(w, r, "", f.LastModified, bytes.NewReader(f.Body))
		return
	}
	if f.hdr.lastModified != nil {
		h["Last-Modified"] = f.hdr.lastModified
	}
	if enc.gzip {
		h["Content-Encoding"] = headerGzip
	}
	h["Content-Length"] = enc.length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(enc.body)
	}
}

// The results of matchETag.
const (
	matchNone = iota
	matchIdentity
	matchGzip
)

// matchETag compares the entity tags of If-None-Match header values with
// f's, weakly (RFC 9110 8.8.3.2: a W/ prefix is ignored): which of f's
// encodings one of them names, or matchNone. "*" matches.
func matchETag(values []string, f *file) int {
	for _, v := range values {
		for {
			v = textproto.TrimString(v)
			if v == "" {
				break
			}
			if v[0] == ',' {
				v = v[1:]
				continue
			}
			if v[0] == '*' {
				return matchIdentity
			}
			v = strings.TrimPrefix(v, "W/")
			if len(v) < 2 || v[0] != '"' {
				break // not an entity tag: the rest cannot be read
			}
			end := strings.IndexByte(v[1:], '"')
			if end < 0 {
				break
			}
			tag := v[:end+2]
			v = v[end+2:]
			switch tag {
			case f.ETag:
				return matchIdentity
			case f.GzipETag:
				return matchGzip
			}
		}
	}
	return matchNone
}

// notModifiedSince reports whether f has not changed since the time of an
// If-Modified-Since header. A file without a time always has. A file whose
// time is not a whole second changed in the same second as the version
// before it (newsdesk.SectionVersion.Next): the header, which has seconds
// only, cannot tell the two apart, so it is answered in full.
func notModifiedSince(ims string, f *file) bool {
	if f.hdr.lastModified == nil {
		return false
	}
	if ims == f.hdr.lastModified[0] && f.LastModified.Nanosecond() == 0 {
		return true // the usual case: the client echoes Last-Modified
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	return !f.LastModified.After(t)
}

// acceptsGzip reports whether Accept-Encoding header values allow gzip
// (RFC 9110 12.5.3): gzip or x-gzip listed with a q-value above zero, or
// not listed while "*" is.
func acceptsGzip(values []string) bool {
	gzip, star := -1, -1 // -1: not listed; 0: refused; 1: accepted
	for _, v := range values {
		for v != "" {
			var item string
			item, v, _ = strings.Cut(v, ",")
			coding, params, _ := strings.Cut(item, ";")
			coding = textproto.TrimString(coding)
			ok := 1
			if qZero(params) {
				ok = 0
			}
			switch {
			case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
				gzip = ok
			case coding == "*":
				star = ok
			}
		}
	}
	if gzip >= 0 {
		return gzip == 1
	}
	return star == 1
}

// qZero reports whether the parameters of an Accept-Encoding item give it
// q=0 (also written 0., 0.0, 0.00, 0.000).
func qZero(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		p = textproto.TrimString(p)
		if len(p) < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' {
			continue
		}
		q := p[2:]
		if q == "" || q[0] != '0' {
			return false
		}
		return strings.Trim(q[1:], ".0") == "" && strings.Count(q, ".") <= 1
	}
	return false
}

// sitePath maps a URL path to the path of a site file. Section ids are
// checked against the allow-list here, before any lookup: r.URL.Path is
// already decoded, so "..%2F" and "%00" arrive as "../" and NUL and fail.
// The path it returns is a part of urlPath for every file but a section's
// page asked for without its extension.
func sitePath(urlPath string) (string, bool) {
	switch urlPath {
	case "/":
		return "index.html", true
	case "/sections.opml":
		return "sections.opml", true
	}
	name, ok := strings.CutPrefix(urlPath, "/sections/")
	if !ok {
		return "", false
	}
	for _, ext := range sectionExts {
		if id, ok := strings.CutSuffix(name, ext); ok && newsdesk.ValidID(id) {
			return urlPath[1:], true
		}
	}
	if newsdesk.ValidID(name) {
		return "sections/" + name + ".html", true
	}
	return "", false
}

func allowMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func maxAgeSeconds(d time.Duration) int64 {
	if n := int64(d / time.Second); n > 0 {
		return n
	}
	return 1
}

// Route names the kind of a request path to the site, for metrics, from a
// fixed set of labels: index, opml, feed, section_page or other.
func Route(p string) string {
	switch {
	case p == "/":
		return "index"
	case p == "/sections.opml":
		return "opml"
	case strings.HasPrefix(p, "/sections/"):
		switch path.Ext(p) {
		case ".rss", ".atom", ".json":
			return "feed"
		case ".gz":
			return "other"
		}
		return "section_page"
	}
	return "other"
}
