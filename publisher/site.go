package publisher

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Site is a rendered snapshot of every published file, keyed by path relative
// to the site root: "index.html", "sections.opml", "sections/ID.rss",
// "sections/ID.atom", "sections/ID.json" and the section's page
// "sections/ID.html". A Site is never modified once rendered, so it may be
// shared between goroutines; Server.RebuildSections makes a new one that
// shares the files of the sections it did not render again.
type Site struct {
	cfg   *Config // what the site was rendered from
	base  string
	title string
	files map[string]*file // public and private sections' files
	// views are the sections in config order, without their items: what
	// the index page and the OPML list are made of.
	views []*sectionView
	// lists are the index page and OPML list variants shown to the holder
	// of a private section's token, one per distinct token.
	lists []tokenLists
	// versions are the sections' versions, by section id, as rendered.
	versions map[string]newsdesk.SectionVersion
	// sources is how each configured source is shown in every section
	// that carries it (see Server.Outdated).
	sources map[string]source
}

// tokenLists are the index page and OPML list that include the private
// sections of one token.
type tokenLists struct {
	token       string
	index, opml *file
}

// Paths returns the paths of the site's public files, sorted: what WriteDir
// writes. The files of private sections are served by Server only.
func (s *Site) Paths() []string {
	paths := make([]string, 0, len(s.files))
	for p, f := range s.files {
		if f.token == "" {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// fileAt returns the file at path, relative to the site root. It returns the
// files of private sections too; the index page and OPML list it returns are
// the public ones.
func (s *Site) fileAt(path string) (file, bool) {
	f, ok := s.files[path]
	if !ok {
		return file{}, false
	}
	return *f, true
}

// Skipped returns the ids of the private sections, in config order: WriteDir
// does not write them, because a static web server cannot check a token.
func (s *Site) Skipped() []string {
	var ids []string
	for _, v := range s.views {
		if v.Token != "" {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

// Render renders every file of the site from the store's current items,
// and records the sections' versions in the store.
func Render(st Store, cfg Config) (*Site, error) {
	return reread(func(pos position) (*Site, error) { return renderSite(st, &cfg, pos) })
}

// errBehind says that a render read the store before another render (of
// another instance sharing the store) that recorded a newer version of one
// of its sections: its content may be older, so it must not be published
// under a version, and it reads again.
var errBehind = errors.New("render: another render has recorded newer content; reading again")

// renderAttempts is how many times reread renders.
const renderAttempts = 3

// position says how a render dates its reads for RecordSectionVersions:
// with the store's Position, or, on the last of renderAttempts, not at all.
type position bool

const (
	readPosition position = false
	noPosition   position = true
)

// reread returns render's site, rendering again while the store says that
// another render overtook its reads (errBehind). The last attempt records
// what it read without a position: with other instances committing that
// fast, a render that always falls behind would otherwise publish nothing,
// and the newer versions they record are announced to this instance,
// which renders them in turn.
func reread(render func(position) (*Site, error)) (*Site, error) {
	for attempt := 1; ; attempt++ {
		pos := readPosition
		if attempt == renderAttempts {
			pos = noPosition
		}
		site, err := render(pos)
		if !errors.Is(err, errBehind) {
			return site, err
		}
	}
}

// storePosition returns the store's Position for a render that reads now,
// or "" for noPosition.
func storePosition(st Store, p position) (string, error) {
	if p == noPosition {
		return "", nil
	}
	pos, err := st.Position()
	if err != nil {
		return "", fmt.Errorf("render: %w", err)
	}
	return pos, nil
}

func renderSite(st Store, cfg *Config, p position) (*Site, error) {
	pos, err := storePosition(st, p) // before every read
	if err != nil {
		return nil, err
	}
	states, err := st.States()
	if err != nil {
		return nil, fmt.Errorf("render: fetch states: %w", err)
	}
	r, err := newRenderer(st, cfg, cfg.Sources, states, pos)
	if err != nil {
		return nil, err
	}
	site := &Site{
		cfg:      cfg,
		base:     r.base,
		title:    r.title,
		files:    make(map[string]*file),
		views:    make([]*sectionView, len(cfg.Sections)),
		versions: make(map[string]newsdesk.SectionVersion, len(cfg.Sections)),
		sources:  r.sources,
	}
	seen := make(map[string]bool)
	all := make([]int, len(cfg.Sections))
	for i := range cfg.Sections {
		sec := &cfg.Sections[i]
		if !newsdesk.ValidID(sec.ID) {
			return nil, fmt.Errorf("render: section %q: id must be %s to be published", sec.ID, newsdesk.IDRule)
		}
		if seen[sec.ID] {
			return nil, fmt.Errorf("render: section %q: defined twice", sec.ID)
		}
		seen[sec.ID] = true
		all[i] = i
	}
	if err := site.renderSections(r, all); err != nil {
		return nil, err
	}
	if err := site.renderLists(); err != nil {
		return nil, err
	}
	return site, nil
}

// rerender returns a copy of the site with the sections ids rendered again
// from the store, and the index page and OPML list, whose counts and dates
// change with them. The other sections' files are shared, not copied.
func (s *Site) rerender(st Store, ids []string, p position) (*Site, error) {
	idx, err := s.sectionIndexes(ids)
	if err != nil {
		return nil, err
	}
	pos, err := storePosition(st, p) // before every read
	if err != nil {
		return nil, err
	}
	srcs, states, err := s.sourcesOf(st, idx)
	if err != nil {
		return nil, err
	}
	r, err := newRenderer(st, s.cfg, srcs, states, pos)
	if err != nil {
		return nil, err
	}
	rendered := make(map[string]bool, len(idx))
	for _, i := range idx {
		rendered[s.cfg.Sections[i].ID] = true
	}
	next := &Site{
		cfg:      s.cfg,
		base:     r.base,
		title:    r.title,
		files:    maps.Clone(s.files),
		views:    slices.Clone(s.views),
		versions: maps.Clone(s.versions),
		sources:  maps.Clone(s.sources),
	}
	if err := next.renderSections(r, idx); err != nil {
		return nil, err
	}
	// A source is shown anew only where it was rendered again: while a
	// section not rendered this time still shows the old, the site keeps
	// the old, so that Outdated asks for the rest.
	elsewhere := map[string]bool{}
	for _, sec := range s.cfg.Sections {
		if !rendered[sec.ID] {
			for _, id := range sec.Sources {
				elsewhere[id] = true
			}
		}
	}
	for id, src := range r.sources {
		if !elsewhere[id] {
			next.sources[id] = src
		}
	}
	if err := next.renderLists(); err != nil {
		return nil, err
	}
	return next, nil
}

// sectionIndexes returns the indexes in the configuration of the sections
// ids, each once.
func (s *Site) sectionIndexes(ids []string) ([]int, error) {
	var idx []int
	for _, id := range ids {
		i := slices.IndexFunc(s.cfg.Sections, func(sec newsdesk.Section) bool { return sec.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("render: section %q: %w", id, newsdesk.ErrNotFound)
		}
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	return idx, nil
}

// sourcesOf returns the configured sources of the sections at idx, and
// their fetch states, read one by one: a commit's re-render reads what it
// shows, however many sources the configuration has. When those are most
// of the configured sources, one read of every state costs less.
func (s *Site) sourcesOf(st Store, idx []int) ([]newsdesk.Source, []newsdesk.FetchState, error) {
	shown := map[string]bool{}
	for _, i := range idx {
		for _, id := range s.cfg.Sections[i].Sources {
			shown[id] = true
		}
	}
	var srcs []newsdesk.Source
	for _, src := range s.cfg.Sources {
		if shown[src.ID] {
			srcs = append(srcs, src)
		}
	}
	if len(srcs) > max(len(s.cfg.Sources)/2, 64) {
		states, err := st.States()
		if err != nil {
			return nil, nil, fmt.Errorf("render: fetch states: %w", err)
		}
		return srcs, states, nil
	}
	var states []newsdesk.FetchState
	for _, src := range srcs {
		state, err := st.State(src.ID)
		switch {
		case err == nil:
			states = append(states, state)
		case !errors.Is(err, newsdesk.ErrNotFound):
			return nil, nil, fmt.Errorf("render: fetch state of %s: %w", src.ID, err)
		}
	}
	return srcs, states, nil
}

// renderer holds what every section's rendering needs.
type renderer struct {
	st      Store
	base    string
	title   string
	sources map[string]source
	now     time.Time
	// pos is the store's Position from before the renderer's reads.
	pos string
	// statusPath is Config.StatusPath.
	statusPath string
	// hubs are Config.Hubs, checked.
	hubs []string
}

// newRenderer returns the renderer of cfg's sections that shows the
// sources srcs (those of the sections it renders) by their fetch states.
func newRenderer(st Store, cfg *Config, srcs []newsdesk.Source, states []newsdesk.FetchState, pos string) (*renderer, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	r := &renderer{st: st, base: base, title: clean(oneLine(cfg.Title)), sources: newSources(srcs, states), now: time.Now(), pos: pos, statusPath: cfg.StatusPath}
	if cfg.Now != nil {
		r.now = cfg.Now()
	}
	for _, hub := range cfg.Hubs {
		if err := newsdesk.CheckHTTPURL(hub); err != nil {
			return nil, fmt.Errorf("render: websub hub %q %v: give an absolute http(s) URL", hub, err)
		}
		if !slices.Contains(r.hubs, hub) {
			r.hubs = append(r.hubs, hub)
		}
	}
	if r.title == "" {
		r.title = "newsdesk"
	}
	return r, nil
}

// renderSections renders the feeds and pages of the sections at the indexes
// idx of the configuration into s.files, their views (without items) into
// s.views and their versions into s.versions. The versions of them all are
// recorded in the store at once, between making the views, which the
// versions hash, and writing the files, which carry their time.
func (s *Site) renderSections(r *renderer, idx []int) error {
	views := make([]*sectionView, len(idx))
	hashes := make(map[string]string, len(idx))
	for k, i := range idx {
		sec := &s.cfg.Sections[i]
		v, err := newSectionView(r, sec)
		if err != nil {
			return fmt.Errorf("render: section %s: %w", sec.ID, err)
		}
		views[k] = v
		hashes[sec.ID] = v.hash(r.title)
	}
	versions, err := r.st.RecordSectionVersions(hashes, r.now, r.pos)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	for _, v := range views {
		ver, ok := versions[v.ID]
		switch {
		case !ok:
			return fmt.Errorf("render: section %s: the store returned no version for its content", v.ID)
		case ver.Hash != hashes[v.ID] && r.pos != "":
			return errBehind
		case ver.Hash != hashes[v.ID]:
			return fmt.Errorf("render: section %s: the store returned a version of other content", v.ID)
		}
	}
	for k, i := range idx {
		v := views[k]
		ver := versions[v.ID]
		v.Updated = ver.ChangedAt.UTC()
		s.versions[v.ID] = ver
		if err := s.renderSection(r, i, v); err != nil {
			return err
		}
		views[k] = nil // its items may go
	}
	return nil
}

// renderSection renders the i-th section's feeds and page from its view v
// into s.files, and v without its items into s.views[i].
func (s *Site) renderSection(r *renderer, i int, v *sectionView) error {
	sec := &s.cfg.Sections[i]
	for _, f := range []struct {
		ext, contentType string
		render           func(*sectionView) ([]byte, error)
	}{
		{".rss", typeRSS, renderRSS},
		{".atom", typeAtom, renderAtom},
		{".json", typeJSON, renderJSON},
		{".html", typeHTML, func(v *sectionView) ([]byte, error) { return renderPage(r.title, v) }},
	} {
		body, err := f.render(v)
		if err != nil {
			return fmt.Errorf("render: section %s%s: %w", sec.ID, f.ext, err)
		}
		file, err := newFile(f.contentType, body, v.Updated, v.MaxAge, v.Token)
		if err != nil {
			return fmt.Errorf("render: section %s%s: %w", sec.ID, f.ext, err)
		}
		if link := v.linkHeader(f.ext); link != "" {
			file.hdr.link = []string{link}
		}
		s.files["sections/"+sec.ID+f.ext] = file
	}
	summary := *v
	summary.Items = nil
	s.views[i] = &summary
	return nil
}

// renderLists renders the index page and the OPML list: the public ones
// into s.files, and for each distinct token of the private sections the
// ones that also list that token's sections into s.lists.
func (s *Site) renderLists() error {
	index, opml, err := s.renderList("")
	if err != nil {
		return err
	}
	s.files["index.html"], s.files["sections.opml"] = index, opml
	s.lists = nil
	for _, v := range s.views {
		if v.Token == "" || slices.ContainsFunc(s.lists, func(l tokenLists) bool { return l.token == v.Token }) {
			continue
		}
		index, opml, err := s.renderList(v.Token)
		if err != nil {
			return err
		}
		s.lists = append(s.lists, tokenLists{token: v.Token, index: index, opml: opml})
	}
	return nil
}

func (s *Site) renderList(token string) (index, opml *file, err error) {
	var views []*sectionView
	for _, v := range s.views {
		if v.Token != "" && v.Token != token {
			continue
		}
		views = append(views, v)
	}
	body, err := renderIndex(s.title, tokenQuery(token), views)
	if err != nil {
		return nil, nil, fmt.Errorf("render: index.html: %w", err)
	}
	// The index has no Last-Modified: it changes with the configuration
	// too (a section added or removed), which no version dates, so only
	// its ETag can tell a reader whether it changed.
	if index, err = newFile(typeHTML, body, time.Time{}, defaultMaxAge, token); err != nil {
		return nil, nil, fmt.Errorf("render: index.html: %w", err)
	}
	body, err = renderOPML(s.title, views)
	if err != nil {
		return nil, nil, fmt.Errorf("render: sections.opml: %w", err)
	}
	// The list changes only with the configuration, which has no time.
	if opml, err = newFile(typeOPML, body, time.Time{}, defaultMaxAge, token); err != nil {
		return nil, nil, fmt.Errorf("render: sections.opml: %w", err)
	}
	return index, opml, nil
}

// tokenQuery is the query string that carries a private section's token.
func tokenQuery(token string) string {
	if token == "" {
		return ""
	}
	return "?token=" + url.QueryEscape(token)
}

// parseBaseURL checks that the base URL is absolute and makes it end with a
// slash, so that "sections/x.atom" can be appended to it.
func parseBaseURL(raw string) (string, error) {
	if err := newsdesk.CheckHTTPURL(raw); err != nil {
		return "", fmt.Errorf("render: base url %q %v: give an absolute http(s) URL such as http://localhost:8080/", raw, err)
	}
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	return raw, nil
}
