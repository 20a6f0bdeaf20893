package config

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// The readers of single values: each reports a value it cannot take at
// its place and returns something usable, so that reading goes on and
// finds the file's other problems too.

func (p *parser) int(n *yaml.Node) (int, bool) {
	v, err := strconv.Atoi(p.str(n))
	if err != nil {
		p.at(n, "%q is not a whole number", n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) bool(n *yaml.Node) bool {
	v, err := strconv.ParseBool(p.str(n))
	if err != nil || n.Tag != "!!bool" {
		p.at(n, "%q is not true or false", n.Value)
	}
	return v
}

// count reads a whole number of at least 1.
func (p *parser) count(n *yaml.Node, what string) int {
	v, ok := p.int(n)
	if ok && v < 1 {
		p.at(n, "%s %d: must be at least 1", what, v)
	}
	return v
}

// perFetch reads max_items_per_fetch: a whole number, 0 for no cap.
func (p *parser) perFetch(n *yaml.Node) int {
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
func (p *parser) size(n *yaml.Node) int64 {
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
func (p *parser) retention(n *yaml.Node, base newsdesk.Retention) newsdesk.Retention {
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

func (p *parser) duration(n *yaml.Node) (time.Duration, bool) {
	s := p.str(n)
	d, err := time.ParseDuration(s)
	if err != nil {
		p.at(n, "bad duration %q: write a number with a unit, e.g. 90s, 15m or 2h", s)
		return 0, false
	}
	return d, true
}

func (p *parser) interval(n *yaml.Node) time.Duration {
	d, ok := p.duration(n)
	if !ok {
		return newsdesk.DefaultInterval
	}
	if d < newsdesk.MinInterval {
		p.at(n, "interval %s is shorter than %s: polling that often burdens the publisher", d, newsdesk.MinInterval)
	}
	return d
}

func (p *parser) timeout(n *yaml.Node) time.Duration {
	d, ok := p.duration(n)
	if !ok {
		return newsdesk.DefaultTimeout
	}
	if d <= 0 || d > newsdesk.MaxTimeout {
		p.at(n, "timeout %s: must be more than 0 and at most %s", d, newsdesk.MaxTimeout)
	}
	return d
}

func (p *parser) rules(n *yaml.Node, what string) []newsdesk.Rule {
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
