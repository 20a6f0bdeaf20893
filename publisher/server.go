package publisher

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves the current Site from memory. Rebuild renders a new one and
// swaps it in whole, so a request sees either the old site or the new one,
// never a mix.
type Server struct {
	st     Store
	logger *slog.Logger

	cfg  atomic.Pointer[Config]
	site atomic.Pointer[Site]

	// rebuild serializes Rebuild, so that a slow render that started
	// earlier cannot replace the site of a later one.
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
	site, err := Render(s.st, *s.cfg.Load())
	if err != nil {
		return err
	}
	s.site.Store(site)
	s.logger.Debug("site rebuilt", "files", len(site.files))
	return nil
}

// ServeHTTP serves the routes of the site:
//
//	GET /                  index page
//	GET /sections.opml     OPML list of the section feeds
//	GET /sections/ID.rss   RSS 2.0
//	GET /sections/ID.atom  Atom 1.0
//	GET /sections/ID.json  JSON Feed 1.1
//	GET /healthz           "ok" when the store answers
//
// Anything else is 404; methods other than GET and HEAD are 405.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		if !allowMethod(w, r) {
			return
		}
		s.serveHealth(w)
		return
	}
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
	f, ok := site.files[path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !allowMethod(w, r) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Etag", f.ETag)
	h.Set("Cache-Control", "public, max-age="+strconv.FormatInt(maxAgeSeconds(f.MaxAge), 10))
	h.Set("X-Content-Type-Options", "nosniff")
	if f.ContentType == typeHTML {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	http.ServeContent(w, r, path, f.LastModified, bytes.NewReader(f.Body))
}

// sitePath maps a URL path to the path of a site file. Section ids are
// checked against the allow-list here, before any lookup: r.URL.Path is
// already decoded, so "..%2F" and "%00" arrive as "../" and NUL and fail.
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
	for _, ext := range []string{".rss", ".atom", ".json"} {
		if id, ok := strings.CutSuffix(name, ext); ok && sectionIDPattern.MatchString(id) {
			return "sections/" + name, true
		}
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

func (s *Server) serveHealth(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	if _, err := s.st.States(); err != nil {
		s.logger.Warn("health check: store does not answer", "err", err)
		http.Error(w, fmt.Sprintf("store: %v", err), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok"))
}

func maxAgeSeconds(d time.Duration) int64 {
	if n := int64(d / time.Second); n > 0 {
		return n
	}
	return 1
}
