package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/fetcher"
	"go.yaml.in/yaml/v3"
)

// Config is feeds.yaml, checked and with every default applied. Paths in it
// are resolved against the config file's folder.
type Config struct {
	Path   string // the config file
	DBPath string // storage.path, resolved
	// PurgeRemovedAfter is storage.purge_removed_after: how long the items
	// of a source removed from feeds.yaml are kept; 0: until `newsdesk purge`.
	PurgeRemovedAfter time.Duration
	Listen            string // server.listen
	BaseURL           string // server.base_url, always ending in "/"
	AdminToken        string // server.admin_token: guards /status and /status.json when set
	PublishDir        string // publish.dir, resolved; empty: no static export on run
	Sources           []newsdesk.Source
	Sections          []newsdesk.Section

	Concurrency  int    // fetch.concurrency: fetches in flight at once
	PerHost      int    // fetch.per_host: fetches in flight to one host
	UserAgentURL string // fetch.user_agent_url: the URL in the User-Agent

	sourcePos map[string]Problem // where each source's id is, for later warnings

	// Warnings are what check reports without failing: likely mistakes
	// that still make a valid file.
	Warnings Problems
}

// SourceProblem is a message about a configured source, placed at its id
// in feeds.yaml.
func (c *Config) SourceProblem(id, format string, args ...any) Problem {
	p := c.sourcePos[id]
	p.Msg = fmt.Sprintf(format, args...)
	return p
}

// sourceDefaults are the defaults section, applied to every source.
type sourceDefaults struct {
	interval, timeout  time.Duration
	schedule           string
	ignoreCacheHeaders bool
	maxBody            int64
	maxItemsPerFetch   int
	retention          newsdesk.Retention
}

// Source returns the configured source with the given id.
func (c *Config) Source(id string) (newsdesk.Source, bool) {
	for _, s := range c.Sources {
		if s.ID == id {
			return s, true
		}
	}
	return newsdesk.Source{}, false
}

// SourceIDs are the ids of the configured sources, in config order.
func (c *Config) SourceIDs() []string {
	ids := make([]string, len(c.Sources))
	for i, src := range c.Sources {
		ids[i] = src.ID
	}
	return ids
}

// Problem is one error in feeds.yaml, at a line and column.
type Problem struct {
	Path      string
	Line, Col int
	Msg       string
	// Private marks a problem inside a private section: its message names
	// the section, which answers without a token must not.
	Private bool
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d:%d: %s", p.Path, p.Line, p.Col, p.Msg) }

// Public is the problem as an answer without a token may show it: a
// private section's problem keeps only its place.
func (p Problem) Public() string {
	if p.Private {
		return fmt.Sprintf("%s:%d:%d: a problem in a private section (serve's log says which)", p.Path, p.Line, p.Col)
	}
	return p.String()
}

// Problems are all the errors found in feeds.yaml, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

const (
	defaultInterval = 15 * time.Minute
	defaultTimeout  = 30 * time.Second
	// defaultPurgeRemovedAfter is how long a source removed from feeds.yaml
	// keeps its items: time to notice a mistake and put it back.
	defaultPurgeRemovedAfter = 30 * 24 * time.Hour
	maxTimeout               = 10 * time.Minute
)

// LoadConfig reads and checks feeds.yaml. Its error is Problems when the
// file was read but has mistakes, listing all of them.
func LoadConfig(path string) (*Config, error) {
	return LoadConfigContext(context.Background(), path)
}

// LoadConfigContext is LoadConfig that stops reading the YAML, and returns
// ctx's error, once ctx is done (Ctrl-C on check, shutdown of serve).
func LoadConfigContext(ctx context.Context, path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w (give another file with -config PATH)", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parseConfigContext(ctx, path, filepath.Dir(abs), data)
}

// parseConfig checks the YAML in data; name is the path shown in problems
// and dir the folder relative paths are resolved against.
func parseConfig(name, dir string, data []byte) (*Config, error) {
	return parseConfigContext(context.Background(), name, dir, data)
}

// parseConfigContext is parseConfig that stops once ctx is done.
func parseConfigContext(ctx context.Context, name, dir string, data []byte) (*Config, error) {
	p := &configParser{name: name}
	var doc yaml.Node
	if err := decodeYAML(ctx, data, &doc, nil); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read config: %w", ctx.Err())
		}
		prob, err := p.syntaxProblem(ctx, data, err)
		if err != nil {
			return nil, err
		}
		return nil, Problems{prob}
	}
	cfg := &Config{
		Path:              name,
		DBPath:            "newsdesk.db",
		PurgeRemovedAfter: defaultPurgeRemovedAfter,
		Listen:            "127.0.0.1:8080",
		BaseURL:           "http://localhost:8080/",
		Concurrency:       fetcher.DefaultConcurrency,
		PerHost:           fetcher.DefaultPerHost,
		UserAgentURL:      "https://github.com/newsdesk/newsdesk",
		sourcePos:         map[string]Problem{},
	}
	defaults := sourceDefaults{interval: defaultInterval, timeout: defaultTimeout, maxItemsPerFetch: newsdesk.DefaultMaxItemsPerFetch, retention: newsdesk.DefaultRetention}
	if len(doc.Content) == 0 {
		p.at(&doc, "the file is empty: it needs at least a sources list and a sections list")
		return nil, p.problems
	}
	root := doc.Content[0]
	var sources, sections *yaml.Node
	var baseURLNode *yaml.Node
	storageNode := root // where a problem with the database's path is shown
	p.mapping(root, "the top level", []field{
		{"storage", func(v *yaml.Node) {
			p.mapping(v, "storage", []field{
				{"path", func(v *yaml.Node) {
					storageNode = v
					if s := p.str(v); s != "" {
						cfg.DBPath = s
					} else {
						p.at(v, "storage.path is empty: name the database file, e.g. newsdesk.db")
					}
				}},
				{"purge_removed_after", func(v *yaml.Node) {
					if d, ok := p.duration(v); ok {
						if d < 0 {
							p.at(v, "storage.purge_removed_after %s: must not be negative (0 keeps removed sources' items until `newsdesk purge`)", d)
						}
						cfg.PurgeRemovedAfter = d
					}
				}},
			})
		}},
		{"server", func(v *yaml.Node) {
			p.mapping(v, "server", []field{
				{"listen", func(v *yaml.Node) {
					cfg.Listen = p.str(v)
					if err := checkListen(cfg.Listen); err != nil {
						p.at(v, "server.listen %q: %v", cfg.Listen, err)
					}
				}},
				{"base_url", func(v *yaml.Node) { cfg.BaseURL, baseURLNode = p.str(v), v }},
				{"admin_token", func(v *yaml.Node) {
					if cfg.AdminToken = p.str(v); cfg.AdminToken != "" && len(cfg.AdminToken) < 16 {
						p.at(v, "server.admin_token is too short: use at least 16 random characters (e.g. from `openssl rand -hex 16`)")
					}
				}},
			})
		}},
		{"publish", func(v *yaml.Node) {
			p.mapping(v, "publish", []field{
				{"dir", func(v *yaml.Node) { cfg.PublishDir = p.str(v) }},
			})
		}},
		{"fetch", func(v *yaml.Node) {
			p.mapping(v, "fetch", []field{
				{"concurrency", func(v *yaml.Node) { cfg.Concurrency = p.count(v, "fetch.concurrency") }},
				{"per_host", func(v *yaml.Node) { cfg.PerHost = p.count(v, "fetch.per_host") }},
				{"user_agent_url", func(v *yaml.Node) {
					cfg.UserAgentURL = p.str(v)
					if err := newsdesk.CheckHTTPURL(cfg.UserAgentURL); err != nil {
						p.at(v, "fetch.user_agent_url %q %v", cfg.UserAgentURL, err)
					}
				}},
			})
		}},
		{"defaults", func(v *yaml.Node) {
			var intervalNode, scheduleNode *yaml.Node
			p.mapping(v, "defaults", []field{
				{"interval", func(v *yaml.Node) { defaults.interval, intervalNode = p.interval(v), v }},
				{"schedule", func(v *yaml.Node) { defaults.schedule, scheduleNode = p.schedule(v), v }},
				{"timeout", func(v *yaml.Node) { defaults.timeout = p.timeout(v) }},
				{"honor_cache_headers", func(v *yaml.Node) { defaults.ignoreCacheHeaders = !p.bool(v) }},
				{"max_body", func(v *yaml.Node) { defaults.maxBody = p.size(v) }},
				{"max_items_per_fetch", func(v *yaml.Node) { defaults.maxItemsPerFetch = p.perFetch(v) }},
				{"retention", func(v *yaml.Node) { defaults.retention = p.retention(v, defaults.retention) }},
			})
			if intervalNode != nil && scheduleNode != nil {
				p.at(scheduleNode, "defaults: set interval or schedule, not both")
			}
		}},
		{"sources", func(v *yaml.Node) { sources = v }},
		{"sections", func(v *yaml.Node) { sections = v }},
	})
	if baseURLNode != nil {
		cfg.BaseURL = p.baseURL(baseURLNode, cfg.BaseURL)
	}
	cfg.Sources = p.sources(sources, root, cfg, defaults)
	cfg.Sections = p.sections(sections, root, cfg)
	if sock := socketPath(resolve(dir, cfg.DBPath)); len(sock) > maxSocketPath {
		p.at(storageNode, "storage.path: serve's control socket %s would be %d bytes long, more than the %d a Unix socket path may have: give the database a shorter absolute path, e.g. /var/lib/newsdesk/newsdesk.db", sock, len(sock), maxSocketPath)
	}
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		})
		return nil, p.problems
	}
	cfg.Warnings = p.warnings
	cfg.DBPath = resolve(dir, cfg.DBPath)
	if cfg.PublishDir != "" {
		cfg.PublishDir = resolve(dir, cfg.PublishDir)
	}
	return cfg, nil
}

func resolve(dir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

func (p *configParser) sources(seq, parent *yaml.Node, cfg *Config, d sourceDefaults) []newsdesk.Source {
	if seq == nil {
		p.at(parent, "no sources: add a sources list with at least one feed (id and url)")
		return nil
	}
	var out []newsdesk.Source
	seen := map[string]bool{}
	for _, n := range p.list(seq, "sources") {
		src := newsdesk.Source{
			Interval:           d.interval,
			Schedule:           d.schedule,
			IntervalSet:        d.schedule != "",
			Timeout:            d.timeout,
			IgnoreCacheHeaders: d.ignoreCacheHeaders,
			MaxBody:            d.maxBody,
			MaxItemsPerFetch:   d.maxItemsPerFetch,
			Retention:          d.retention,
		}
		var idNode, urlNode, intervalNode, scheduleNode *yaml.Node
		p.mapping(n, "a source", []field{
			{"id", func(v *yaml.Node) { src.ID, idNode = p.str(v), v }},
			{"title", func(v *yaml.Node) { src.Title = p.str(v) }},
			{"url", func(v *yaml.Node) { src.URL, urlNode = p.str(v), v }},
			{"interval", func(v *yaml.Node) { src.Interval, intervalNode = p.interval(v), v }},
			{"schedule", func(v *yaml.Node) { src.Schedule, scheduleNode = p.schedule(v), v }},
			{"timeout", func(v *yaml.Node) { src.Timeout = p.timeout(v) }},
			{"honor_cache_headers", func(v *yaml.Node) { src.IgnoreCacheHeaders = !p.bool(v) }},
			{"max_body", func(v *yaml.Node) { src.MaxBody = p.size(v) }},
			{"max_items_per_fetch", func(v *yaml.Node) { src.MaxItemsPerFetch = p.perFetch(v) }},
			{"retention", func(v *yaml.Node) { src.Retention = p.retention(v, src.Retention) }},
			{"tags", func(v *yaml.Node) {
				for _, t := range p.strings(v, "tags") {
					if !newsdesk.ValidID(t.Value) {
						p.at(t, "tag %q: use lower-case letters, digits, - and _", t.Value)
					}
					src.Tags = append(src.Tags, t.Value)
				}
			}},
		})
		if n.Kind != yaml.MappingNode {
			continue
		}
		p.checkID(n, idNode, "source", seen)
		what := fmt.Sprintf("source %q", src.ID)
		switch {
		case intervalNode != nil && scheduleNode != nil:
			p.at(scheduleNode, "%s: set interval or schedule, not both", what)
		case intervalNode != nil:
			src.Schedule, src.IntervalSet = "", true
		case scheduleNode != nil:
			src.IntervalSet = true
		}
		switch {
		case urlNode == nil:
			p.at(n, "%s has no url: add the feed's address, e.g. url: https://example.com/rss", what)
		default:
			p.feedURL(urlNode, what)
		}
		if idNode != nil {
			cfg.sourcePos[src.ID] = Problem{Path: p.name, Line: idNode.Line, Col: idNode.Column}
		}
		out = append(out, src)
	}
	return out
}

func (p *configParser) sections(seq, parent *yaml.Node, cfg *Config) []newsdesk.Section {
	if seq == nil {
		p.at(parent, "no sections: add a sections list; each section republishes some sources as a feed")
		return nil
	}
	sourceIDs := make([]string, len(cfg.Sources))
	tags := map[string]bool{}
	for i, s := range cfg.Sources {
		sourceIDs[i] = s.ID
		for _, t := range s.Tags {
			tags[t] = true
		}
	}
	var out []newsdesk.Section
	seen := map[string]bool{}
	for _, n := range p.list(seq, "sections") {
		sec := newsdesk.Section{Limit: newsdesk.DefaultLimit}
		first := len(p.problems) // this section's problems start here
		var idNode, tokenNode, tokenEnvNode *yaml.Node
		var srcNodes, tagNodes []*yaml.Node
		p.mapping(n, "a section", []field{
			{"id", func(v *yaml.Node) { sec.ID, idNode = p.str(v), v }},
			{"title", func(v *yaml.Node) { sec.Title = p.str(v) }},
			{"description", func(v *yaml.Node) { sec.Description = p.str(v) }},
			{"sources", func(v *yaml.Node) { srcNodes = p.strings(v, "sources") }},
			{"tags", func(v *yaml.Node) { tagNodes = p.strings(v, "tags") }},
			{"include", func(v *yaml.Node) { sec.Include = p.rules(v, "include") }},
			{"exclude", func(v *yaml.Node) { sec.Exclude = p.rules(v, "exclude") }},
			{"dedupe", func(v *yaml.Node) {
				switch d := p.str(v); d {
				case "titles":
					sec.DedupeTitles = true
				case "links", "":
				default:
					p.at(v, "dedupe %q: write dedupe: titles to also collapse near-identical titles from different sources (same links always collapse)", d)
				}
			}},
			{"max_age", func(v *yaml.Node) {
				if d, ok := p.duration(v); ok {
					if d <= 0 {
						p.at(v, "max_age %s: must be more than 0", d)
					}
					sec.MaxAge = d
				}
			}},
			{"token", func(v *yaml.Node) { sec.Token, tokenNode = p.str(v), v }},
			{"token_env", func(v *yaml.Node) { tokenEnvNode = v }},
			{"limit", func(v *yaml.Node) {
				if n, ok := p.int(v); ok {
					if n < 1 {
						p.at(v, "limit %d: must be at least 1 (the newest N items of the section)", n)
					}
					sec.Limit = n
				}
			}},
		})
		if n.Kind != yaml.MappingNode {
			continue
		}
		p.checkID(n, idNode, "section", seen)
		if sec.Title == "" {
			sec.Title = sec.ID
		}
		what := fmt.Sprintf("section %q", sec.ID)
		switch {
		case tokenNode != nil && tokenEnvNode != nil:
			p.at(tokenEnvNode, "%s: set token or token_env, not both", what)
		case tokenNode != nil && len(sec.Token) < 16:
			p.at(tokenNode, "%s: token is too short to keep the section private: use at least 16 random characters (e.g. from `openssl rand -hex 16`)", what)
		case tokenEnvNode != nil:
			name := p.str(tokenEnvNode)
			sec.Token = os.Getenv(name)
			if sec.Token == "" {
				p.at(tokenEnvNode, "%s: token_env %s is not set in the environment: set it to the section's secret, or the section would be public", what, name)
			} else if len(sec.Token) < 16 {
				p.at(tokenEnvNode, "%s: the token in %s is too short: use at least 16 random characters", what, name)
			}
		}
		if srcNodes == nil && tagNodes == nil {
			p.at(n, "%s has no sources: add sources: [ID, ...] or tags: [TAG, ...]", what)
		}
		for _, s := range srcNodes {
			if !slices.Contains(sourceIDs, s.Value) {
				p.at(s, "%s: unknown source %q%s", what, s.Value, suggest(s.Value, sourceIDs))
				continue
			}
			sec.Sources = append(sec.Sources, s.Value)
		}
		for _, t := range tagNodes {
			if !tags[t.Value] {
				p.at(t, "%s: no source has tag %q%s", what, t.Value, suggest(t.Value, mapKeys(tags)))
				continue
			}
			for _, s := range cfg.Sources {
				if slices.Contains(s.Tags, t.Value) && !slices.Contains(sec.Sources, s.ID) {
					sec.Sources = append(sec.Sources, s.ID)
				}
			}
		}
		if tokenNode != nil || tokenEnvNode != nil {
			for i := first; i < len(p.problems); i++ {
				p.problems[i].Private = true
			}
		}
		out = append(out, sec)
	}
	return out
}

func (p *configParser) checkID(n, idNode *yaml.Node, kind string, seen map[string]bool) {
	switch {
	case idNode == nil:
		p.at(n, "%s has no id: add id: with lower-case letters, digits, - and _", kind)
	case !newsdesk.ValidID(idNode.Value):
		p.at(idNode, "%s id %q: use %s", kind, idNode.Value, newsdesk.IDRule)
	case seen[idNode.Value]:
		p.at(idNode, "duplicate %s id %q: each %s needs its own id", kind, idNode.Value, kind)
	}
	if idNode != nil {
		seen[idNode.Value] = true
	}
}

// configParser walks the YAML tree and collects every problem it finds.
type configParser struct {
	name     string
	problems Problems
	warnings Problems
	gaps     map[string]scheduleGap // schedules checked so far
}

type scheduleGap struct {
	gap time.Duration
	err error
}

type field struct {
	key string
	set func(v *yaml.Node)
}

// warn records something that is not wrong enough to reject the file but
// probably not what was meant: check prints it.
func (p *configParser) warn(n *yaml.Node, format string, args ...any) {
	p.warnings = append(p.warnings, Problem{Path: p.name, Line: max(n.Line, 1), Col: max(n.Column, 1), Msg: "warning: " + fmt.Sprintf(format, args...)})
}

func (p *configParser) at(n *yaml.Node, format string, args ...any) {
	line, col := max(n.Line, 1), max(n.Column, 1)
	p.problems = append(p.problems, Problem{Path: p.name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// syntaxProblem places a YAML syntax error at the line to fix. yaml.v3
// reports the line where the enclosing block started, which can be far above
// the mistake (a source list's first line for a bad indent in its
// thousandth source). The line the operator has to look at is where the
// first prefix of the file that no longer parses ends. A parser reading the
// file a line at a time stops a line or two past it, so the search starts
// there and gallops back: a few parses of the file, not one per line.
func (p *configParser) syntaxProblem(ctx context.Context, data []byte, err error) (Problem, error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = msg[len(m[0]):]
	}
	lines := strings.SplitAfter(string(data), "\n")
	var ctxErr error
	fails := func(n int) bool {
		if ctxErr != nil {
			return true
		}
		if err := decodeYAML(ctx, []byte(strings.Join(lines[:n], "")), new(yaml.Node), nil); err != nil {
			ctxErr = ctx.Err()
			return true
		}
		return false
	}
	line = min(line, len(lines))
	if !fails(line) {
		// Where a parser reading line by line stopped: the prefix up to
		// there fails (else the whole file is the one that fails).
		var read int
		decodeYAML(ctx, data, new(yaml.Node), &read)
		hi := min(max(read, line+1), len(lines))
		if !fails(hi) {
			hi = len(lines)
		}
		// The prefix of lo lines parses, that of hi lines does not.
		lo := line
		for step := 1; hi-step > lo; step *= 2 {
			if !fails(hi - step) {
				lo = hi - step
				break
			}
			hi -= step
		}
		for hi-lo > 1 {
			if mid := (lo + hi) / 2; fails(mid) {
				hi = mid
			} else {
				lo = mid
			}
		}
		line = hi
	}
	if ctxErr != nil {
		return Problem{}, fmt.Errorf("read config: %w", ctxErr)
	}
	return Problem{Path: p.name, Line: line, Col: 1, Msg: "YAML syntax: " + msg}, nil
}

// decodeYAML parses data into doc, reading it a line at a time so that it
// stops once ctx is done, and counting in *read (when not nil) the lines
// the parser has asked for.
func decodeYAML(ctx context.Context, data []byte, doc *yaml.Node, read *int) error {
	err := yaml.NewDecoder(&lineReader{ctx: ctx, data: data, lines: read}).Decode(doc)
	if errors.Is(err, io.EOF) { // no document: an empty file, or only comments
		return nil
	}
	return err
}

// lineReader hands out data a line per Read and fails once ctx is done.
type lineReader struct {
	ctx     context.Context
	data    []byte
	lines   *int
	midLine bool // the last Read ended inside a line
}

func (r *lineReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	end := len(r.data)
	if i := bytes.IndexByte(r.data, '\n'); i >= 0 {
		end = i + 1
	}
	n := copy(b, r.data[:end])
	if r.lines != nil && n > 0 && !r.midLine {
		*r.lines++ // a line's first bytes
	}
	r.midLine = n > 0 && r.data[n-1] != '\n'
	r.data = r.data[n:]
	return n, nil
}

// mapping calls each field's set for the keys present in n, and reports
// unknown and repeated keys.
func (p *configParser) mapping(n *yaml.Node, what string, fields []field) {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return
		}
		p.at(n, "%s should be a mapping of keys (%s), not %s", what, strings.Join(fieldKeys(fields), ", "), describe(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.at(k, "%s: key %q appears twice: keep one", what, k.Value)
			continue
		}
		seen[k.Value] = true
		j := slices.IndexFunc(fields, func(f field) bool { return f.key == k.Value })
		if j < 0 {
			p.at(k, "%s: unknown key %q%s (known keys: %s)", what, k.Value, suggest(k.Value, fieldKeys(fields)), strings.Join(fieldKeys(fields), ", "))
			continue
		}
		fields[j].set(v)
	}
}

func fieldKeys(fields []field) []string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return keys
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (p *configParser) list(n *yaml.Node, what string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		if n.Tag != "!!null" {
			p.at(n, "%s should be a list (lines starting with -), not %s", what, describe(n))
		}
		return nil
	}
	return n.Content
}

func (p *configParser) str(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		p.at(n, "expected a single value, not %s", describe(n))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// strings reads a list of plain values; a single value counts as a list of one.
func (p *configParser) strings(n *yaml.Node, what string) []*yaml.Node {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	for _, v := range p.list(n, what) {
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			p.at(v, "%s: expected a name, not %s", what, describe(v))
			continue
		}
		out = append(out, v)
	}
	return out
}

func (p *configParser) int(n *yaml.Node) (int, bool) {
	v, err := strconv.Atoi(p.str(n))
	if err != nil {
		p.at(n, "%q is not a whole number", n.Value)
		return 0, false
	}
	return v, true
}

func (p *configParser) bool(n *yaml.Node) bool {
	v, err := strconv.ParseBool(p.str(n))
	if err != nil || n.Tag != "!!bool" {
		p.at(n, "%q is not true or false", n.Value)
	}
	return v
}

// count reads a whole number of at least 1.
func (p *configParser) count(n *yaml.Node, what string) int {
	v, ok := p.int(n)
	if ok && v < 1 {
		p.at(n, "%s %d: must be at least 1", what, v)
	}
	return v
}

// perFetch reads max_items_per_fetch: a whole number, 0 for no cap.
func (p *configParser) perFetch(n *yaml.Node) int {
	v, ok := p.int(n)
	if ok && v < 0 {
		p.at(n, "max_items_per_fetch %d: must not be negative (0 means no cap; the default is %d)", v, newsdesk.DefaultMaxItemsPerFetch)
		return newsdesk.DefaultMaxItemsPerFetch
	}
	return v
}

var sizePattern = regexp.MustCompile(`^(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$`)

var sizeUnits = map[string]int64{"": 1, "B": 1, "KB": 1e3, "KiB": 1 << 10, "MB": 1e6, "MiB": 1 << 20, "GB": 1e9, "GiB": 1 << 30}

// size reads a byte count such as 10MiB, 512KiB or 1048576.
func (p *configParser) size(n *yaml.Node) int64 {
	s := strings.TrimSpace(p.str(n))
	m := sizePattern.FindStringSubmatch(s)
	if m == nil {
		p.at(n, "bad size %q: write a number with an optional unit, e.g. 10MiB, 512KiB or 1048576", s)
		return 0
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || v < 1 || v > (1<<30)/sizeUnits[m[2]] {
		p.at(n, "size %q: must be from 1 byte to 1GiB", s)
		return 0
	}
	return v * sizeUnits[m[2]]
}

// retention reads a retention mapping; keys it does not give keep the
// values of base (the defaults).
func (p *configParser) retention(n *yaml.Node, base newsdesk.Retention) newsdesk.Retention {
	r := base
	var maxItemsNode, minItemsNode *yaml.Node
	p.mapping(n, "retention", []field{
		{"max_age", func(v *yaml.Node) {
			if d, ok := p.duration(v); ok {
				if d <= 0 {
					p.at(v, "retention.max_age %s: must be more than 0", d)
				}
				r.MaxAge = d
			}
		}},
		{"max_items", func(v *yaml.Node) { r.MaxItems, maxItemsNode = p.count(v, "retention.max_items"), v }},
		{"min_items", func(v *yaml.Node) {
			minItemsNode = v
			if n, ok := p.int(v); ok {
				if n < 0 {
					p.at(v, "retention.min_items %d: must not be negative", n)
				}
				r.MinItems = n
			}
		}},
	})
	if r.MinItems > r.MaxItems && (maxItemsNode != nil || minItemsNode != nil) {
		at := minItemsNode
		if at == nil {
			at = maxItemsNode
		}
		p.at(at, "retention: min_items %d is more than max_items %d", r.MinItems, r.MaxItems)
	}
	return r
}

// schedule reads a cron schedule; like an interval, it may not fire more
// often than once a minute.
func (p *configParser) schedule(n *yaml.Node) string {
	s := strings.TrimSpace(p.str(n))
	g, ok := p.gaps[s]
	if !ok { // thousands of sources often share a few schedules
		g.gap, g.err = fetcher.ShortestGap(s)
		if p.gaps == nil {
			p.gaps = map[string]scheduleGap{}
		}
		p.gaps[s] = g
	}
	gap, err := g.gap, g.err
	switch {
	case err != nil:
		p.at(n, "bad schedule %q: %v (use cron syntax: minute hour day-of-month month day-of-week, e.g. \"*/10 6-23 * * *\")", s, err)
	case gap < fetcher.MinInterval:
		p.at(n, "schedule %q fires every %s, more often than once every %s: polling that often burdens the publisher (e.g. @every 10m, or \"*/10 * * * *\")", s, gap, fetcher.MinInterval)
	}
	return s
}

func (p *configParser) duration(n *yaml.Node) (time.Duration, bool) {
	s := p.str(n)
	d, err := time.ParseDuration(s)
	if err != nil {
		p.at(n, "bad duration %q: write a number with a unit, e.g. 90s, 15m or 2h", s)
		return 0, false
	}
	return d, true
}

func (p *configParser) interval(n *yaml.Node) time.Duration {
	d, ok := p.duration(n)
	if !ok {
		return defaultInterval
	}
	if d < fetcher.MinInterval {
		p.at(n, "interval %s is shorter than %s: polling that often burdens the publisher", d, fetcher.MinInterval)
	}
	return d
}

func (p *configParser) timeout(n *yaml.Node) time.Duration {
	d, ok := p.duration(n)
	if !ok {
		return defaultTimeout
	}
	if d <= 0 || d > maxTimeout {
		p.at(n, "timeout %s: must be more than 0 and at most %s", d, maxTimeout)
	}
	return d
}

func (p *configParser) rules(n *yaml.Node, what string) []newsdesk.Rule {
	var out []newsdesk.Rule
	for _, v := range p.strings(n, what) {
		r, err := newsdesk.ParseRule(v.Value)
		if err != nil {
			p.at(v, "%s: %v", what, err)
			continue
		}
		if w := halfRegexp(r); w != "" {
			p.warn(v, "%s %s", what, w)
		}
		out = append(out, r)
	}
	return out
}

// halfRegexp explains a plain rule that looks like a regular expression
// without its closing slash ("/(unclosed", "/(?i)kim"): it matches as a
// phrase, which is rarely what was meant. Empty for other rules.
func halfRegexp(r newsdesk.Rule) string {
	body := r.Text
	prefix := ""
	if r.Field != "" {
		prefix = r.Field + ":"
		body = strings.TrimPrefix(body, prefix)
	}
	body = strings.TrimSpace(body)
	if !strings.HasPrefix(body, "/") || len(body) >= 2 && strings.HasSuffix(body, "/") || !strings.ContainsAny(body[1:], `\.+*?()|[]{}^$`) {
		return ""
	}
	msg := fmt.Sprintf("%q starts with / like a regular expression but does not end with one, so it matches as the plain phrase %q", r.Text, body)
	if _, err := regexp.Compile(body[1:]); err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			err = fmt.Errorf("%s: `%s`", se.Code, se.Expr)
		}
		msg += fmt.Sprintf(" (%s/ would not compile: %v)", body, err)
	}
	literal := prefix + "/(?i)" + regexp.QuoteMeta(body) + "/"
	return msg + ". Write a regular expression between two slashes, or to match the text as written, '" + strings.ReplaceAll(literal, "'", "''") + "'"
}

func (p *configParser) feedURL(n *yaml.Node, what string) {
	if err := newsdesk.CheckHTTPURL(n.Value); err != nil {
		p.at(n, "%s: url %q %v", what, n.Value, err)
	}
}

func (p *configParser) baseURL(n *yaml.Node, s string) string {
	if err := newsdesk.CheckHTTPURL(s); err != nil {
		p.at(n, "server.base_url %q %v", s, err)
		return s
	}
	if strings.ContainsAny(s, "?#") {
		p.at(n, "server.base_url %q has a query or fragment, which would end up in the middle of every feed URL: give the address the sections are served under, e.g. https://news.example.org/feeds/", s)
		return s
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

// maxSocketPath is the longest path a Unix socket may have on Linux: 108
// bytes in sockaddr_un, one of them the terminating NUL.
const maxSocketPath = 107

// checkListen checks a listen address as serve's net.Listen("tcp", addr)
// takes it: host:port, the host empty (every interface), an IP or a name,
// the port a number up to 65535 or a service name.
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			err = errors.New(ae.Err)
		}
		return fmt.Errorf("%v: write host:port, e.g. 127.0.0.1:8080 or :8080", err)
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 0 || n > 65535 {
			return fmt.Errorf("port %d is out of range: use 1 to 65535", n)
		}
		return nil
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("port %q is not a number or a known service: use 1 to 65535, e.g. 127.0.0.1:8080", port)
	}
	return nil
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// suggest returns ` (did you mean "x"?)` for the closest candidate within two
// edits, or "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
