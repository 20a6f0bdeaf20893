package config

import (
	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// topLevel is what the top-level keys leave for the sources and sections
// to read.
type topLevel struct {
	sources, sections *yaml.Node
	storage           *yaml.Node // where a problem with the database's path is shown
	postgres, lease   *yaml.Node // storage.postgres and storage.lease, when given
	pathGiven         bool       // storage.path is in the file
	baseURL           *yaml.Node // server.base_url, when given
	defaults          sourceDefaults
	// websubOn are the websub keys set true, in defaults and the
	// sources: where check's warnings about the callback's reach go.
	websubOn []*yaml.Node
}

// sourceDefaults are the defaults section, applied to every source.
type sourceDefaults struct {
	source       newsdesk.Source // the fields a source inherits
	scheduleNode *yaml.Node      // defaults.schedule, when given
	websubNode   *yaml.Node      // defaults.websub, when given
}

// topLevel reads the keys of the file's top-level mapping into cfg.
func (p *parser) topLevel(root *yaml.Node, cfg *Config) topLevel {
	t := topLevel{storage: root, defaults: sourceDefaults{source: newsdesk.Source{
		Interval:         newsdesk.DefaultInterval,
		Timeout:          newsdesk.DefaultTimeout,
		MaxItemsPerFetch: newsdesk.DefaultMaxItemsPerFetch,
		Retention:        newsdesk.DefaultRetention,
		FullText:         newsdesk.FullText{Attribution: true},
	}}}
	p.mapping(root, "the top level", []field{
		{"storage", func(v *yaml.Node) { p.storage(v, cfg, &t) }},
		{"server", func(v *yaml.Node) { t.baseURL = p.server(v, cfg) }},
		{"publish", func(v *yaml.Node) {
			p.mapping(v, "publish", []field{
				{"dir", func(v *yaml.Node) { cfg.PublishDir = p.str(v) }},
				{"websub_hubs", func(v *yaml.Node) { cfg.WebSubHubs = p.websubHubs(v) }},
			})
		}},
		{"fetch", func(v *yaml.Node) { p.fetch(v, cfg) }},
		{"defaults", func(v *yaml.Node) { p.defaults(v, &t.defaults) }},
		{"sources", func(v *yaml.Node) { t.sources = v }},
		{"sections", func(v *yaml.Node) { t.sections = v }},
	})
	if t.baseURL != nil {
		cfg.BaseURL, cfg.baseURLSet = p.baseURL(t.baseURL, cfg.BaseURL), true
	}
	if n := t.defaults.websubNode; n != nil && t.defaults.source.WebSub {
		t.websubOn = append(t.websubOn, n)
	}
	return t
}

// storage reads the storage section into cfg, and the nodes of its keys
// into t.
func (p *parser) storage(n *yaml.Node, cfg *Config, t *topLevel) {
	p.mapping(n, "storage", []field{
		{"path", func(v *yaml.Node) {
			t.storage, t.pathGiven = v, true
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
		{"postgres", func(v *yaml.Node) { p.postgresURL(v, cfg, &t.postgres) }},
		{"lease", func(v *yaml.Node) { p.lease(v, cfg, &t.lease) }},
	})
}

// server reads the server section, and returns base_url's node: the URL
// is checked once the whole file is read.
func (p *parser) server(n *yaml.Node, cfg *Config) (baseURL *yaml.Node) {
	p.mapping(n, "server", []field{
		{"listen", func(v *yaml.Node) {
			cfg.Listen = p.str(v)
			if err := CheckListen(cfg.Listen); err != nil {
				p.at(v, "server.listen %q: %v", cfg.Listen, err)
			}
		}},
		{"base_url", func(v *yaml.Node) { cfg.BaseURL, baseURL = p.str(v), v }},
		{"admin_token", func(v *yaml.Node) {
			if cfg.AdminToken = p.str(v); cfg.AdminToken != "" && len(cfg.AdminToken) < 16 {
				p.at(v, "server.admin_token is too short: use at least 16 random characters (e.g. from `openssl rand -hex 16`)")
			}
		}},
		{"websub_allow_private", func(v *yaml.Node) { cfg.WebSubAllowPrivate = p.bool(v) }},
	})
	return baseURL
}

func (p *parser) fetch(n *yaml.Node, cfg *Config) {
	p.mapping(n, "fetch", []field{
		{"concurrency", func(v *yaml.Node) { cfg.Concurrency = p.count(v, "fetch.concurrency") }},
		{"per_host", func(v *yaml.Node) { cfg.PerHost = p.count(v, "fetch.per_host") }},
		{"user_agent_url", func(v *yaml.Node) {
			cfg.UserAgentURL = p.str(v)
			if err := newsdesk.CheckHTTPURL(cfg.UserAgentURL); err != nil {
				p.at(v, "fetch.user_agent_url %q %v", cfg.UserAgentURL, err)
			}
		}},
	})
}

// defaults reads the defaults section into d.
func (p *parser) defaults(n *yaml.Node, d *sourceDefaults) {
	s := &d.source
	var intervalNode *yaml.Node
	p.mapping(n, "defaults", []field{
		{"interval", func(v *yaml.Node) { s.Interval, intervalNode = p.interval(v), v }},
		{"schedule", func(v *yaml.Node) { s.Schedule, d.scheduleNode = p.schedule(v), v }},
		{"timeout", func(v *yaml.Node) { s.Timeout = p.timeout(v) }},
		{"honor_cache_headers", func(v *yaml.Node) { s.IgnoreCacheHeaders = !p.bool(v) }},
		{"max_body", func(v *yaml.Node) { s.MaxBody = p.size(v) }},
		{"max_items_per_fetch", func(v *yaml.Node) { s.MaxItemsPerFetch = p.perFetch(v) }},
		{"retention", func(v *yaml.Node) { s.Retention = p.retention(v, s.Retention) }},
		{"full_text", func(v *yaml.Node) { s.FullText = p.fullText(v, "defaults.full_text", s.FullText) }},
		{"websub", func(v *yaml.Node) { s.WebSub, d.websubNode = p.bool(v), v }},
		{"user_agent", func(v *yaml.Node) { s.UserAgent = p.userAgent(v, "defaults.user_agent") }},
		{"auth", func(v *yaml.Node) { p.noDefaultCredentials(v, "auth") }},
		{"headers", func(v *yaml.Node) { p.noDefaultCredentials(v, "headers") }},
	})
	if intervalNode != nil && d.scheduleNode != nil {
		p.at(d.scheduleNode, "defaults: set interval or schedule, not both")
	}
}
