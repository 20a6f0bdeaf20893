package config

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// SourcesList is where the top-level sources list of a feeds.yaml text
// ends, how its items are indented, and what is in it: what `newsdesk
// import` needs to add sources to the file as text, so that every comment
// and blank line the operator wrote stays as it was.
type SourcesList struct {
	// AfterLine is the line new sources go after; 0 means the end of the
	// file.
	AfterLine int
	// Sources are the sources already in the list, with their ID and URL
	// as written (either may be empty).
	Sources []newsdesk.Source

	insertAt  int    // byte offset where new items go
	header    string // written before the items: "sources:" when the key is missing
	newline   string // the file's line ending
	dash, key int    // columns (from 0) of an item's "-" and of its keys
}

// FindSources reads just enough of a feeds.yaml text to insert items into
// its sources list. It needs a block-style list (or an empty sources: key,
// or none).
func FindSources(data []byte) (*SourcesList, error) {
	l := &SourcesList{dash: 2, key: 4, newline: "\n"}
	lines := splitLines(data)
	if len(lines) > 0 {
		if nl := lineBreak(lines[0]); nl != "" {
			l.newline = nl
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root != nil && (root.Kind != yaml.MappingNode || root.Style&yaml.FlowStyle != 0) {
		return nil, errors.New("the top level is not a block mapping of keys (storage:, sources:, sections: ...), so newsdesk import cannot add to it")
	}
	key, seq, next := sourcesKey(root)
	if key == nil {
		l.newBlock(data, lines, root)
		return l, nil
	}
	if err := l.indentation(key, seq); err != nil {
		return nil, err
	}
	l.end(lines, key, next)
	return l, nil
}

// sourcesKey finds the top-level sources key, its value, and the key after
// it; all nil when there is none.
func sourcesKey(root *yaml.Node) (key, value, next *yaml.Node) {
	if root == nil {
		return nil, nil, nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "sources" {
			if i+2 < len(root.Content) {
				next = root.Content[i+2]
			}
			return root.Content[i], root.Content[i+1], next
		}
	}
	return nil, nil, nil
}

// newBlock places a new sources: block at the end of the (first) document,
// for a file without a sources key.
func (l *SourcesList) newBlock(data []byte, lines [][]byte, root *yaml.Node) {
	from := 0
	if root != nil {
		from = root.Line - 1
	}
	end := docEnd(lines, from)
	for _, line := range lines[:end] {
		l.insertAt += len(line)
	}
	l.header = "sources:" + l.newline
	if end > 0 && lineBreak(lines[end-1]) == "" {
		l.header = l.newline + l.header
	}
	if len(bytes.TrimSpace(data[:l.insertAt])) > 0 {
		l.header = l.newline + l.header
	}
}

// indentation learns how the list's items are indented, and the sources
// already in it.
func (l *SourcesList) indentation(key, seq *yaml.Node) error {
	switch {
	case seq.Kind == yaml.SequenceNode && seq.Style&yaml.FlowStyle != 0:
		return fmt.Errorf("line %d: sources is a [...] list: write it as a block list (one \"- id: ...\" per source) to import into it", seq.Line)
	case seq.Kind == yaml.SequenceNode:
		if len(seq.Content) > 0 {
			l.dash = seq.Column - 1
			l.key = l.dash + 2
			if first := seq.Content[0]; first.Kind == yaml.MappingNode && first.Column-1 > l.dash {
				l.key = first.Column - 1
			}
		}
		for _, item := range seq.Content {
			l.remember(item)
		}
	case seq.Kind == yaml.ScalarNode && seq.Tag == "!!null":
		l.dash, l.key = key.Column-1+2, key.Column-1+4
	default:
		return fmt.Errorf("line %d: sources is not a list", seq.Line)
	}
	return nil
}

// end places new items after the list: after its last line, before the
// next top-level key, that is content or a comment indented under
// sources:. A comment at the key's own indentation belongs to what comes
// after.
func (l *SourcesList) end(lines [][]byte, key, next *yaml.Node) {
	end := docEnd(lines, key.Line)
	if next != nil {
		end = next.Line - 1
	}
	last := key.Line - 1
	for i := end - 1; i >= key.Line; i-- {
		text := string(lines[i][:len(lines[i])-len(lineBreak(lines[i]))])
		trimmed := strings.TrimLeft(text, " \t")
		indent := len(text) - len(trimmed)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") && indent <= key.Column-1 {
			continue
		}
		last = i
		break
	}
	for _, line := range lines[:last+1] {
		l.insertAt += len(line)
	}
	l.AfterLine = last + 1
	if nl := lineBreak(lines[last]); nl != "" {
		l.newline = nl
	} else {
		l.header = l.newline // the file ends without a line break
	}
}

// Insert returns data, the text FindSources read, with text (from Render)
// inserted at the end of the sources list.
func (l *SourcesList) Insert(data, text []byte) []byte {
	return slices.Concat(data[:l.insertAt], text, data[l.insertAt:])
}

// splitLines splits YAML text after each line break, where yaml.v3 sees
// them (and counts lines): CR LF, LF, CR, NEL, LS and PS.
func splitLines(data []byte) [][]byte {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexFunc(data, isLineBreak)
		if i < 0 {
			lines = append(lines, data)
			break
		}
		_, size := utf8.DecodeRune(data[i:])
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			size = 2
		}
		lines = append(lines, data[:i+size])
		data = data[i+size:]
	}
	return lines
}

func isLineBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029'
}

// lineBreak returns the line break that ends line, or "".
func lineBreak(line []byte) string {
	if bytes.HasSuffix(line, []byte("\r\n")) {
		return "\r\n"
	}
	r, size := utf8.DecodeLastRune(line)
	if size > 0 && isLineBreak(r) {
		return string(line[len(line)-size:])
	}
	return ""
}

// docEnd returns the index of the first line from from on that starts
// another YAML document (--- or ...), or len(lines).
func docEnd(lines [][]byte, from int) int {
	for i := from; i < len(lines); i++ {
		for _, marker := range []string{"---", "..."} {
			rest, ok := bytes.CutPrefix(lines[i], []byte(marker))
			if ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || lineBreak(rest) == string(rest)) {
				return i
			}
		}
	}
	return len(lines)
}

// remember records an existing source's id and url.
func (l *SourcesList) remember(item *yaml.Node) {
	if item.Kind != yaml.MappingNode {
		return
	}
	var id, u string
	for i := 0; i+1 < len(item.Content); i += 2 {
		switch k, v := item.Content[i], item.Content[i+1]; k.Value {
		case "id":
			id = v.Value
		case "url":
			u = v.Value
		}
	}
	if id != "" || u != "" {
		l.Sources = append(l.Sources, newsdesk.Source{ID: id, URL: u})
	}
}

// Render returns the YAML text to insert for srcs (their ID, Title, URL
// and Tags), indented like the existing items, after a comment that names
// from, the file they come from; nothing when there is nothing to add.
func (l *SourcesList) Render(srcs []newsdesk.Source, from string) []byte {
	if len(srcs) == 0 {
		return nil
	}
	var b strings.Builder
	nl := l.newline
	dash := strings.Repeat(" ", l.dash)
	key := strings.Repeat(" ", l.key)
	b.WriteString(l.header)
	fmt.Fprintf(&b, "%s# Imported from %s by newsdesk import.%s", dash, newsdesk.OneLine(from), nl)
	for _, s := range srcs {
		fmt.Fprintf(&b, "%s-%sid: %s%s", dash, strings.Repeat(" ", l.key-l.dash-1), yamlScalar(s.ID), nl)
		if s.Title != "" {
			fmt.Fprintf(&b, "%stitle: %s%s", key, yamlScalar(s.Title), nl)
		}
		fmt.Fprintf(&b, "%surl: %s%s", key, yamlScalar(s.URL), nl)
		if len(s.Tags) > 0 {
			tags := make([]string, len(s.Tags))
			for i, t := range s.Tags {
				tags[i] = yamlScalar(t)
			}
			fmt.Fprintf(&b, "%stags: [%s]%s", key, strings.Join(tags, ", "), nl)
		}
	}
	return []byte(b.String())
}

// yamlScalar writes s as a plain YAML scalar when that reads back as the
// same string, and double-quoted otherwise ("null", "no", "a: b", "#1").
func yamlScalar(s string) string {
	var n yaml.Node
	if s != "" && !strings.ContainsAny(s, "\"\\\n\r\t") && yaml.Unmarshal([]byte("k: "+s), &n) == nil &&
		len(n.Content) == 1 && len(n.Content[0].Content) == 2 {
		if v := n.Content[0].Content[1]; v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Style == 0 && v.Value == s {
			return s
		}
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r > 0xffff && !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		case r < 0x20 || r == 0x7f || !unicode.IsPrint(r) && r != ' ':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
