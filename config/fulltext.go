package config

// full_text (issue 13): a source's opt-in to the article text of its items,
// read into newsdesk.FullText for the fetcher's article pass. It is off
// unless feeds.yaml turns it on, in a source or under defaults.

import (
	"strconv"
	"strings"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// SelectorCheck, when set, checks a CSS selector of full_text.selector and
// full_text.remove, returning what is wrong with it. cmd/newsdesk sets it to
// fetcher.CheckSelector before any feeds.yaml is read: config must not
// import the fetcher, whose selector library does the matching. While it is
// nil, selectors are taken as written and a bad one fails at extraction.
var SelectorCheck func(selector string) error

// fullTextKeys are the keys of a full_text mapping.
var fullTextKeys = []string{"selector", "remove", "per_pass", "attribution", "allow_private"}

// fullText reads n, full_text as true, false or a mapping; what names it
// in messages (`source "x": full_text`, `defaults.full_text`). base is what
// the source has without it (the defaults'): true or a mapping turns full
// text on and keeps base's keys that the mapping does not give, false
// turns it off.
func (p *parser) fullText(n *yaml.Node, what string, base newsdesk.FullText) newsdesk.FullText {
	ft := base
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!bool":
		ft.Enabled = p.bool(n)
		return ft
	case n.Kind != yaml.MappingNode:
		p.at(n, "%s should be true, false or a mapping of keys (%s), not %s", what, strings.Join(fullTextKeys, ", "), describe(n))
		return ft
	}
	ft.Enabled = true
	p.mapping(n, what, []field{
		{"selector", func(v *yaml.Node) { ft.Selector = p.selector(v, what+".selector") }},
		{"remove", func(v *yaml.Node) {
			ft.Remove = nil
			for _, s := range p.strings(v, what+".remove") {
				ft.Remove = append(ft.Remove, p.selector(s, what+".remove"))
			}
		}},
		{"per_pass", func(v *yaml.Node) { ft.PerPass = p.perPass(v, what+".per_pass") }},
		{"attribution", func(v *yaml.Node) { ft.Attribution = p.flag(v, what+".attribution") }},
		{"allow_private", func(v *yaml.Node) { ft.AllowPrivate = p.flag(v, what+".allow_private") }},
	})
	return ft
}

// selector reads a CSS selector group, checked with SelectorCheck.
func (p *parser) selector(n *yaml.Node, what string) string {
	s := p.str(n)
	switch {
	case n.Kind != yaml.ScalarNode:
	case strings.TrimSpace(s) == "":
		p.at(n, "%s is empty: give a CSS selector, e.g. div.article__content", what)
	case SelectorCheck != nil:
		if err := SelectorCheck(s); err != nil {
			p.at(n, "%s: %v: write a CSS selector, e.g. div.article__content or .story .share", what, err)
		}
	}
	return s
}

// perPass reads full_text.per_pass: from 1 to newsdesk.MaxArticlesPerPass.
func (p *parser) perPass(n *yaml.Node, what string) int {
	v, err := strconv.Atoi(n.Value)
	if n.Kind == yaml.ScalarNode && err == nil && v >= 1 && v <= newsdesk.MaxArticlesPerPass {
		return v
	}
	shown := n.Value
	if n.Kind != yaml.ScalarNode || err != nil {
		shown = describe(n)
	}
	p.at(n, "%s %s: must be a whole number from 1 to %d (article pages fetched per pass; the default is %d)", what, shown, newsdesk.MaxArticlesPerPass, newsdesk.DefaultArticlesPerPass)
	return 0
}

// flag reads a true or false that is named in its message.
func (p *parser) flag(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.at(n, "%s %s: write true or false", what, describe(n))
		return false
	}
	v, _ := strconv.ParseBool(n.Value)
	return v
}
