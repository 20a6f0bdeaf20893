// Package config reads feeds.yaml: Load and Parse check the whole file and
// return a *Config with every default applied, or Problems that place each
// mistake at its line and column (with a did-you-mean where one helps).
// FindSources and SourcesList.Render insert sources into the file's text
// for `newsdesk import`, keeping every comment.
//
// config is the only package that imports the YAML library, and it builds
// each source's cron schedule once (newsdesk.Schedule), so that no other
// package parses either. It imports only the root package, the standard
// library, the YAML library and the cron library: it must not open the
// database or touch the network (`check`'s database warnings are cmd's).
package config

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// Config is feeds.yaml, checked and with every default applied. Paths in it
// are resolved against the config file's folder.
type Config struct {
	Path   string // the config file
	DBPath string // storage.path, resolved
	// Postgres is the PostgreSQL database's URL (storage.postgres, else the
	// environment's NEWSDESK_DATABASE_URL); empty: the bbolt file DBPath.
	Postgres string
	// PostgresFrom says where Postgres came from, for messages:
	// "storage.postgres" or "NEWSDESK_DATABASE_URL".
	PostgresFrom string
	// Lease is storage.lease: how long an instance sharing a PostgreSQL
	// store holds a source it fetches; longer than any fetch's timeout.
	Lease time.Duration
	// Hash is the file's fingerprint (the first 12 hex digits of its
	// SHA-256): instances sharing a store show it, so that differing
	// feeds.yaml files are seen.
	Hash string
	// PurgeRemovedAfter is storage.purge_removed_after: how long the items
	// of a source removed from feeds.yaml are kept; 0: until `newsdesk purge`.
	PurgeRemovedAfter time.Duration
	Listen            string // server.listen
	BaseURL           string // server.base_url, always ending in "/"
	AdminToken        string // server.admin_token: guards /status and /status.json when set
	PublishDir        string // publish.dir, resolved; empty: no static export on run
	// WebSubHubs are publish.websub_hubs: external WebSub hubs every
	// section advertises and is announced to (hub.mode=publish) after a
	// change; absolute http(s) URLs.
	WebSubHubs []string
	// WebSubAllowPrivate is server.websub_allow_private: the hub may
	// deliver to, and the subscriber talk to, loopback and private
	// addresses.
	WebSubAllowPrivate bool
	baseURLSet         bool // server.base_url is in the file
	Sources            []newsdesk.Source
	Sections           []newsdesk.Section

	Concurrency  int    // fetch.concurrency: fetches in flight at once
	PerHost      int    // fetch.per_host: fetches in flight to one host
	UserAgentURL string // fetch.user_agent_url: the URL in the User-Agent

	sourcePos map[string]Problem // where each source's id is, for later warnings

	// Warnings are what check reports without failing: likely mistakes
	// that still make a valid file.
	Warnings Problems
}

// defaultPurgeRemovedAfter is how long a source removed from feeds.yaml
// keeps its items: time to notice a mistake and put it back.
const defaultPurgeRemovedAfter = 30 * 24 * time.Hour

// newConfig is the configuration of a file that sets nothing.
func newConfig(name string) *Config {
	return &Config{
		Path:              name,
		DBPath:            "newsdesk.db",
		PurgeRemovedAfter: defaultPurgeRemovedAfter,
		Listen:            "127.0.0.1:8080",
		BaseURL:           "http://localhost:8080/",
		Concurrency:       newsdesk.DefaultConcurrency,
		PerHost:           newsdesk.DefaultPerHost,
		UserAgentURL:      "https://github.com/newsdesk/newsdesk",
		sourcePos:         map[string]Problem{},
	}
}

// SourceProblem is a message about a configured source, placed at its id
// in feeds.yaml.
func (c *Config) SourceProblem(id, format string, args ...any) Problem {
	p := c.sourcePos[id]
	p.Msg = fmt.Sprintf(format, args...)
	return p
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

// Load reads and checks feeds.yaml. Its error is Problems when the file was
// read but has mistakes, listing all of them.
func Load(path string) (*Config, error) {
	return LoadContext(context.Background(), path)
}

// LoadContext is Load that stops reading the YAML, and returns ctx's error,
// once ctx is done (Ctrl-C on check, shutdown of serve). It reads the
// environment variables the file names each time: serve's reload calls it
// again, so a reload sees the environment as it is then.
func LoadContext(ctx context.Context, path string) (*Config, error) {
	return LoadEnv(ctx, path, osLookup)
}

// LoadEnv is LoadContext that reads environment variables with lookup
// (nil: the process's environment); AnyEnv reads a file without its
// secrets, for a command that never fetches.
func LoadEnv(ctx context.Context, path string, lookup LookupEnv) (*Config, error) {
	if lookup == nil {
		lookup = osLookup
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w (give another file with -config PATH)", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := parse(ctx, path, filepath.Dir(abs), data, lookup)
	if err != nil {
		return nil, err
	}
	fromEnvironment(cfg)
	return cfg, nil
}

// Parse checks the YAML in data; name is the path shown in problems and
// dir the folder relative paths are resolved against. The environment
// variables the file names (token_env, password_env, ${VAR}) are read
// from the process's environment.
func Parse(name, dir string, data []byte) (*Config, error) {
	return parse(context.Background(), name, dir, data, osLookup)
}

// ParseEnv is Parse that reads environment variables with lookup (nil:
// the process's environment).
func ParseEnv(name, dir string, data []byte, lookup LookupEnv) (*Config, error) {
	if lookup == nil {
		lookup = osLookup
	}
	return parse(context.Background(), name, dir, data, lookup)
}

// parse is Parse that stops once ctx is done.
func parse(ctx context.Context, name, dir string, data []byte, lookup LookupEnv) (*Config, error) {
	p := &parser{name: name, lookup: lookup}
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
	if len(doc.Content) == 0 {
		p.at(&doc, "the file is empty: it needs at least a sources list and a sections list")
		return nil, p.problems
	}
	root := doc.Content[0]
	cfg := newConfig(name)
	top := p.topLevel(root, cfg)
	cfg.Sources = p.sources(top.sources, root, cfg, &top)
	cfg.Sections = p.sections(top.sections, root, cfg)
	p.checkWebSub(cfg, top)
	p.settleStorage(cfg, top.lease)
	if top.postgres != nil && top.pathGiven {
		p.at(top.postgres, "storage.postgres and storage.path are both given: newsdesk uses one store; remove storage.path to use PostgreSQL, or storage.postgres to keep the file")
	}
	if sock := SocketPath(resolve(dir, cfg.DBPath)); cfg.Postgres == "" && len(sock) > maxSocketPath {
		p.at(top.storage, "storage.path: serve's control socket %s would be %d bytes long, more than the %d a Unix socket path may have: give the database a shorter absolute path, e.g. /var/lib/newsdesk/newsdesk.db", sock, len(sock), maxSocketPath)
	}
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		})
		return nil, p.problems
	}
	cfg.Warnings = p.warnings
	cfg.Hash = hashConfig(data)
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
