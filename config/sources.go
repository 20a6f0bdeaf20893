package config

import (
	"fmt"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// sourceNodes are where a source's keys are, for the checks made once all
// of them are read.
type sourceNodes struct {
	id, url, interval, schedule *yaml.Node
	fullText                    *yaml.Node // read once the id is known, to name it
	websub                      *yaml.Node
	credentialNodes
}

func (p *parser) sources(seq, parent *yaml.Node, cfg *Config, t *topLevel) []newsdesk.Source {
	d := t.defaults
	if seq == nil {
		p.at(parent, "no sources: add a sources list with at least one feed (id and url)")
		return nil
	}
	var out []newsdesk.Source
	seen := map[string]bool{}
	for _, n := range p.list(seq, "sources") {
		src := d.source
		src.IntervalSet = d.scheduleNode != nil
		var at sourceNodes
		p.mapping(n, "a source", p.sourceFields(&src, &at))
		if n.Kind != yaml.MappingNode {
			continue
		}
		p.checkID(n, at.id, "source", seen)
		p.checkSource(n, &src, at)
		if at.websub != nil && src.WebSub {
			t.websubOn = append(t.websubOn, at.websub)
		}
		if at.id != nil {
			cfg.sourcePos[src.ID] = Problem{Path: p.name, Line: at.id.Line, Col: at.id.Column}
		}
		out = append(out, src)
	}
	return out
}

// sourceFields are the keys of a source, read into src; at records where
// the ones checked later are.
func (p *parser) sourceFields(src *newsdesk.Source, at *sourceNodes) []field {
	return []field{
		{"id", func(v *yaml.Node) { src.ID, at.id = p.str(v), v }},
		{"title", func(v *yaml.Node) { src.Title = p.str(v) }},
		{"url", func(v *yaml.Node) { src.URL, at.url = p.str(v), v }},
		{"interval", func(v *yaml.Node) { src.Interval, at.interval = p.interval(v), v }},
		{"schedule", func(v *yaml.Node) { src.Schedule, at.schedule = p.schedule(v), v }},
		{"timeout", func(v *yaml.Node) { src.Timeout = p.timeout(v) }},
		{"honor_cache_headers", func(v *yaml.Node) { src.IgnoreCacheHeaders = !p.bool(v) }},
		{"max_body", func(v *yaml.Node) { src.MaxBody = p.size(v) }},
		{"max_items_per_fetch", func(v *yaml.Node) { src.MaxItemsPerFetch = p.perFetch(v) }},
		{"retention", func(v *yaml.Node) { src.Retention = p.retention(v, src.Retention) }},
		{"full_text", func(v *yaml.Node) { at.fullText = v }},
		{"tags", func(v *yaml.Node) {
			for _, t := range p.strings(v, "tags") {
				if !newsdesk.ValidID(t.Value) {
					p.at(t, "tag %q: use lower-case letters, digits, - and _", t.Value)
				}
				src.Tags = append(src.Tags, t.Value)
			}
		}},
		{"websub", func(v *yaml.Node) { src.WebSub, at.websub = p.bool(v), v }},
		{"auth", func(v *yaml.Node) { at.auth = v }},
		{"headers", func(v *yaml.Node) { at.headers = v }},
		{"user_agent", func(v *yaml.Node) { at.userAgent = v }},
	}
}

// checkSource checks what depends on more than one key of a source: its
// own interval or schedule replaces the defaults', its full_text is read
// on top of the defaults' (naming the source), and it needs a url.
func (p *parser) checkSource(n *yaml.Node, src *newsdesk.Source, at sourceNodes) {
	what := fmt.Sprintf("source %q", src.ID)
	if at.fullText != nil {
		src.FullText = p.fullText(at.fullText, what+": full_text", src.FullText)
	}
	p.credentials(src, at.credentialNodes, at.url, what)
	switch {
	case at.interval != nil && at.schedule != nil:
		p.at(at.schedule, "%s: set interval or schedule, not both", what)
	case at.interval != nil:
		src.Schedule, src.IntervalSet = nil, true
	case at.schedule != nil:
		src.IntervalSet = true
	}
	if at.url == nil {
		p.at(n, "%s has no url: add the feed's address, e.g. url: https://example.com/rss", what)
		return
	}
	if err := checkURL(at.url.Value); err != nil {
		p.at(at.url, "%s: url %q %v", what, shownURL(at.url.Value), err)
	}
}

func (p *parser) checkID(n, idNode *yaml.Node, kind string, seen map[string]bool) {
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
