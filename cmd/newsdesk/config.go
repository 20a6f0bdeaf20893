package main

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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
	Path       string // the config file
	DBPath     string // storage.path, resolved
	Listen     string // server.listen
	BaseURL    string // server.base_url, always ending in "/"
	AdminToken string // server.admin_token: guards /status and /status.json when set
	PublishDir string // publish.dir, resolved; empty: no static export on run
	Sources    []newsdesk.Source
	Sections   []newsdesk.Section

	Concurrency  int    // fetch.concurrency: fetches in flight at once
	PerHost      int    // fetch.per_host: fetches in flight to one host
	UserAgentURL string // fetch.user_agent_url: the URL in the User-Agent

	sourcePos map[string]Problem // where each source's id is, for later warnings
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

// Problem is one error in feeds.yaml, at a line and column.
type Problem struct {
	Path      string
	Line, Col int
	Msg       string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d:%d: %s", p.Path, p.Line, p.Col, p.Msg) }

// Problems are all the errors found in feeds.yaml, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

const (
	defaultInterval = 15 * time.Minute
	defaultTimeout  = 30 * time.Second
	minInterval     = time.Minute
	maxTimeout      = 10 * time.Minute
)

// LoadConfig reads and checks feeds.yaml. Its error is Problems when the
// file was read but has mistakes, listing all of them.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w (give another file with -config PATH)", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parseConfig(path, filepath.Dir(abs), data)
}

// parseConfig checks the YAML in data; name is the path shown in problems
// and dir the folder relative paths are resolved against.
func parseConfig(name, dir string, data []byte) (*Config, error) {
	p := &configParser{name: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Problems{p.syntaxProblem(data, err)}
	}
	cfg := &Config{
		Path:         name,
		DBPath:       "newsdesk.db",
		Listen:       "127.0.0.1:8080",
		BaseURL:      "http://localhost:8080/",
		Concurrency:  fetcher.DefaultConcurrency,
		PerHost:      fetcher.DefaultPerHost,
		UserAgentURL: "https://github.com/newsdesk/newsdesk",
		sourcePos:    map[string]Problem{},
	}
	defaults := sourceDefaults{interval: defaultInterval, timeout: defaultTimeout, maxItemsPerFetch: newsdesk.DefaultMaxItemsPerFetch, retention: newsdesk.DefaultRetention}
	if len(doc.Content) == 0 {
		p.at(&doc, "the file is empty: it needs at least a sources list and a sections list")
		return nil, p.problems
	}
	root := doc.Content[0]
	var sources, sections *yaml.Node
	var baseURLNode *yaml.Node
	p.mapping(root, "the top level", []field{
		{"storage", func(v *yaml.Node) {
			p.mapping(v, "storage", []field{
				{"path", func(v *yaml.Node) {
					if s := p.str(v); s != "" {
						cfg.DBPath = s
					} else {
						p.at(v, "storage.path is empty: name the database file, e.g. newsdesk.db")
					}
				}},
			})
		}},
		{"server", func(v *yaml.Node) {
			p.mapping(v, "server", []field{
				{"listen", func(v *yaml.Node) { cfg.Listen = p.str(v) }},
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
					if err := checkHTTPURL(cfg.UserAgentURL); err != nil {
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
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		})
		return nil, p.problems
	}
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
					if !idPattern.MatchString(t.Value) {
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
		out = append(out, sec)
	}
	return out
}

func (p *configParser) checkID(n, idNode *yaml.Node, kind string, seen map[string]bool) {
	switch {
	case idNode == nil:
		p.at(n, "%s has no id: add id: with lower-case letters, digits, - and _", kind)
	case !idPattern.MatchString(idNode.Value):
		p.at(idNode, "%s id %q: use 1 to 64 lower-case letters, digits, - and _, starting with a letter or digit", kind, idNode.Value)
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
}

type field struct {
	key string
	set func(v *yaml.Node)
}

func (p *configParser) at(n *yaml.Node, format string, args ...any) {
	line, col := max(n.Line, 1), max(n.Column, 1)
	p.problems = append(p.problems, Problem{Path: p.name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

func (p *configParser) syntaxProblem(data []byte, err error) Problem {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = msg[len(m[0]):]
	}
	// yaml.v3 reports the line where the enclosing block started, which can
	// be far above the mistake. The first prefix of the file that no longer
	// parses ends at the line the operator has to look at.
	lines := strings.SplitAfter(string(data), "\n")
	for n := line; n <= len(lines); n++ {
		var doc yaml.Node
		if yaml.Unmarshal([]byte(strings.Join(lines[:n], "")), &doc) != nil {
			line = n
			break
		}
	}
	return Problem{Path: p.name, Line: line, Col: 1, Msg: "YAML syntax: " + msg}
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

func (p *configParser) schedule(n *yaml.Node) string {
	s := strings.TrimSpace(p.str(n))
	if err := fetcher.ParseSchedule(s); err != nil {
		p.at(n, "bad schedule %q: %v (use cron syntax: minute hour day-of-month month day-of-week, e.g. \"*/10 6-23 * * *\")", s, err)
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
	if d < minInterval {
		p.at(n, "interval %s is shorter than %s: polling that often burdens the publisher", d, minInterval)
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
		out = append(out, r)
	}
	return out
}

func (p *configParser) feedURL(n *yaml.Node, what string) {
	if err := checkHTTPURL(n.Value); err != nil {
		p.at(n, "%s: url %q %v", what, n.Value, err)
	}
}

func (p *configParser) baseURL(n *yaml.Node, s string) string {
	if err := checkHTTPURL(s); err != nil {
		p.at(n, "server.base_url %q %v", s, err)
		return s
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("is not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must start with http:// or https://")
	case u.Host == "":
		return errors.New("has no host name")
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
