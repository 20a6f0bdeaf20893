package config

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parser walks the YAML tree and collects every problem it finds.
type parser struct {
	name      string
	problems  Problems
	warnings  Problems
	schedules map[string]parsedSchedule // schedules read so far, by their text
	lookup    LookupEnv                 // reads the environment variables the file names
}

// field is a key of a mapping and what reading its value does.
type field struct {
	key string
	set func(v *yaml.Node)
}

func (p *parser) at(n *yaml.Node, format string, args ...any) {
	line, col := max(n.Line, 1), max(n.Column, 1)
	p.problems = append(p.problems, Problem{Path: p.name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// warn records something that is not wrong enough to reject the file but
// probably not what was meant: check prints it.
func (p *parser) warn(n *yaml.Node, format string, args ...any) {
	p.warnings = append(p.warnings, Problem{Path: p.name, Line: max(n.Line, 1), Col: max(n.Column, 1), Msg: "warning: " + fmt.Sprintf(format, args...)})
}

// mapping calls each field's set for the keys present in n, and reports
// unknown and repeated keys.
func (p *parser) mapping(n *yaml.Node, what string, fields []field) {
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
			p.at(k, "%s: unknown key %q%s (known keys: %s)", what, k.Value, Suggest(k.Value, fieldKeys(fields)), strings.Join(fieldKeys(fields), ", "))
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

func (p *parser) list(n *yaml.Node, what string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		if n.Tag != "!!null" {
			p.at(n, "%s should be a list (lines starting with -), not %s", what, describe(n))
		}
		return nil
	}
	return n.Content
}

func (p *parser) str(n *yaml.Node) string {
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
func (p *parser) strings(n *yaml.Node, what string) []*yaml.Node {
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
