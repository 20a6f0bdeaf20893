package config

import (
	"fmt"
	"maps"
	"slices"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// sectionNodes are where a section's keys are, for the checks made once
// all of them are read.
type sectionNodes struct {
	id, token, tokenEnv *yaml.Node
	sources, tags       []*yaml.Node
}

// sourceIndex answers, for every section, which sources exist and which
// carry a tag, without walking all sources per name (thousands of sources
// in sections that list them all).
type sourceIndex struct {
	ids    []string            // in config order, for suggestions
	known  map[string]bool     // source ids
	tagged map[string][]string // tag -> ids of the sources with it, in config order
}

func newSourceIndex(sources []newsdesk.Source) sourceIndex {
	x := sourceIndex{ids: make([]string, len(sources)), known: map[string]bool{}, tagged: map[string][]string{}}
	for i, s := range sources {
		x.ids[i] = s.ID
		x.known[s.ID] = true
		for _, t := range s.Tags {
			if ids := x.tagged[t]; len(ids) == 0 || ids[len(ids)-1] != s.ID {
				x.tagged[t] = append(ids, s.ID)
			}
		}
	}
	return x
}

func (p *parser) sections(seq, parent *yaml.Node, cfg *Config) []newsdesk.Section {
	if seq == nil {
		p.at(parent, "no sections: add a sections list; each section republishes some sources as a feed")
		return nil
	}
	index := newSourceIndex(cfg.Sources)
	var out []newsdesk.Section
	seen := map[string]bool{}
	for _, n := range p.list(seq, "sections") {
		sec := newsdesk.Section{Limit: newsdesk.DefaultLimit}
		first := len(p.problems) // this section's problems start here
		var at sectionNodes
		p.mapping(n, "a section", p.sectionFields(&sec, &at))
		if n.Kind != yaml.MappingNode {
			continue
		}
		p.checkID(n, at.id, "section", seen)
		if sec.Title == "" {
			sec.Title = sec.ID
		}
		what := fmt.Sprintf("section %q", sec.ID)
		p.sectionToken(&sec, at, what)
		p.sectionSources(n, &sec, at, index, what)
		if at.token != nil || at.tokenEnv != nil {
			for i := first; i < len(p.problems); i++ {
				p.problems[i].Private = true
			}
		}
		out = append(out, sec)
	}
	return out
}

// sectionFields are the keys of a section, read into sec; at records
// where the ones checked later are.
func (p *parser) sectionFields(sec *newsdesk.Section, at *sectionNodes) []field {
	return []field{
		{"id", func(v *yaml.Node) { sec.ID, at.id = p.str(v), v }},
		{"title", func(v *yaml.Node) { sec.Title = p.str(v) }},
		{"description", func(v *yaml.Node) { sec.Description = p.str(v) }},
		{"sources", func(v *yaml.Node) { at.sources = p.strings(v, "sources") }},
		{"tags", func(v *yaml.Node) { at.tags = p.strings(v, "tags") }},
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
		{"token", func(v *yaml.Node) { sec.Token, at.token = p.str(v), v }},
		{"token_env", func(v *yaml.Node) { at.tokenEnv = v }},
		{"limit", func(v *yaml.Node) {
			if n, ok := p.int(v); ok {
				if n < 1 {
					p.at(v, "limit %d: must be at least 1 (the newest N items of the section)", n)
				}
				sec.Limit = n
			}
		}},
	}
}

// sectionToken sets a private section's token, from the file or the
// environment, and checks it is long enough to keep the section private.
func (p *parser) sectionToken(sec *newsdesk.Section, at sectionNodes, what string) {
	switch {
	case at.token != nil && at.tokenEnv != nil:
		p.at(at.tokenEnv, "%s: set token or token_env, not both", what)
	case at.token != nil && len(sec.Token) < 16:
		p.at(at.token, "%s: token is too short to keep the section private: use at least 16 random characters (e.g. from `openssl rand -hex 16`)", what)
	case at.tokenEnv != nil:
		name := p.str(at.tokenEnv)
		sec.Token, _ = p.lookup(name)
		if sec.Token == "" {
			p.at(at.tokenEnv, "%s: token_env %s is not set in the environment: set it to the section's secret, or the section would be public", what, name)
		} else if len(sec.Token) < 16 {
			p.at(at.tokenEnv, "%s: the token in %s is too short: use at least 16 random characters", what, name)
		}
	}
}

// sectionSources sets the sources a section publishes: those it names,
// then those with the tags it names, each once.
func (p *parser) sectionSources(n *yaml.Node, sec *newsdesk.Section, at sectionNodes, index sourceIndex, what string) {
	if at.sources == nil && at.tags == nil {
		p.at(n, "%s has no sources: add sources: [ID, ...] or tags: [TAG, ...]", what)
	}
	in := map[string]bool{}
	for _, s := range at.sources {
		if !index.known[s.Value] {
			p.at(s, "%s: unknown source %q%s", what, s.Value, Suggest(s.Value, index.ids))
			continue
		}
		sec.Sources = append(sec.Sources, s.Value)
		in[s.Value] = true
	}
	for _, t := range at.tags {
		ids, ok := index.tagged[t.Value]
		if !ok {
			p.at(t, "%s: no source has tag %q%s", what, t.Value, Suggest(t.Value, slices.Sorted(maps.Keys(index.tagged))))
			continue
		}
		for _, id := range ids {
			if !in[id] {
				sec.Sources = append(sec.Sources, id)
				in[id] = true
			}
		}
	}
}
