package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// cmdImport adds the feeds of another reader's OPML export to feeds.yaml.
//
// feeds.yaml is edited as text, not re-encoded: the new sources are
// inserted after the last item of the top-level sources list, so every
// comment and blank line the operator wrote stays as it was. The YAML tree
// is only used to find where that list ends and how it is indented.
func cmdImport(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("import")
	dryRun := fs.Bool("dry-run", false, "print the YAML that would be added and what would be skipped, without changing feeds.yaml")
	file, err := parseOneArg(fs, args, "FILE.opml")
	if err != nil {
		return err
	}

	opml, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read OPML: %w", err)
	}
	feeds, err := parseOPML(file, opml)
	if err != nil {
		return err
	}
	if len(feeds) == 0 {
		return fmt.Errorf("%s lists no feeds: none of its <outline> elements has an xmlUrl", file)
	}

	path := *config
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w (give another file with -config PATH)", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	dir := filepath.Dir(abs)

	list, err := findSources(data)
	if err != nil {
		// A file yaml.v3 cannot read: parseConfig says where, with the
		// same words as 'newsdesk check'.
		if _, perr := parseConfig(path, dir, data); perr != nil {
			return e.refuse(path, perr)
		}
		return fmt.Errorf("%s: %w", path, err)
	}

	plan := planImport(feeds, list)
	for _, n := range plan.notes {
		fmt.Fprintf(e.stderr, "%s:%s\n", file, n)
	}

	insert := list.render(plan.add, filepath.Base(file))
	out := slices.Concat(data[:list.insertAt], insert, data[list.insertAt:])
	var cfg *Config
	if len(plan.add) > 0 {
		cfg, err = parseConfig(path, dir, out)
		if err != nil {
			// Problems the file already had are the operator's to fix, at
			// lines that are right in the file as it is.
			if _, perr := parseConfig(path, dir, data); perr != nil {
				return e.refuse(path, perr)
			}
			var ps Problems
			if !errors.As(err, &ps) {
				return err
			}
			for _, p := range ps {
				p.Path += " (with the import)"
				fmt.Fprintln(e.stderr, p)
			}
			fmt.Fprintf(e.stderr, "newsdesk: the import would make %s invalid, so nothing was written; this is a bug in newsdesk import, please report it\n", path)
			return errReported
		}
	}

	if *dryRun {
		e.stdout.Write(insert)
		where := "at the end"
		if list.afterLine > 0 {
			where = fmt.Sprintf("after line %d", list.afterLine)
		}
		fmt.Fprintf(e.stderr, "dry run: would import %s, %s; nothing was written\n", plan.summary(path), where)
		if cfg != nil {
			fmt.Fprint(e.stderr, unpublishedNote(cfg, plan.add))
		}
		return nil
	}
	summary := "imported " + plan.summary(path)
	if len(plan.add) == 0 {
		fmt.Fprintf(e.stdout, "%s; %s is unchanged\n", summary, path)
		return nil
	}
	if err := writeFileAtomic(path, data, out); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, summary)
	fmt.Fprint(e.stdout, unpublishedNote(cfg, plan.add))
	return nil
}

// refuse prints the problems feeds.yaml already has, one per line, and
// fails the import.
func (e *env) refuse(path string, err error) error {
	var ps Problems
	if !errors.As(err, &ps) {
		return err
	}
	for _, p := range ps {
		fmt.Fprintln(e.stderr, p)
	}
	fmt.Fprintf(e.stderr, "newsdesk: %s has %s; fix %s and import again ('newsdesk check' lists them); nothing was written\n", path, plural(len(ps), "problem"), pronoun(len(ps)))
	return errReported
}

// opmlFeed is one feed of an OPML subscription list.
type opmlFeed struct {
	Title   string   // the outline's title, else its text; may be empty
	URL     string   // xmlUrl, trimmed
	Type    string   // the type attribute, usually "rss" or empty
	Folders []string // the names of the enclosing outlines, outermost first
	Line    int      // the outline's line in the OPML file
}

// String names the feed in messages: its title and URL.
func (f opmlFeed) String() string {
	if f.Title == "" {
		return strconv.Quote(f.URL)
	}
	return fmt.Sprintf("%q (%s)", f.Title, f.URL)
}

// parseOPML returns the feeds in an OPML file, in document order. Readers
// disagree on the details, so it takes any outline with an xmlUrl
// attribute (in any letter case) as a feed whatever its type, and any
// other outline as a folder. name is the file name used in errors.
func parseOPML(name string, data []byte) ([]opmlFeed, error) {
	data, err := opmlUTF8(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Entity = xml.HTMLEntity // &nbsp; and friends, which hand-edited exports have
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		return charsetReader(label, r, data)
	}
	type frame struct {
		outline, feed bool
		folder        string
	}
	var (
		stack           []frame
		feeds           []opmlFeed
		sawRoot, inBody bool
		sawBody         bool
	)
	for {
		line, _ := d.InputPos() // where the next token starts
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line, err = se.Line, errors.New(se.Msg)
			}
			return nil, fmt.Errorf("%s:%d: malformed OPML: %v", name, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			local := strings.ToLower(t.Name.Local)
			if !sawRoot {
				sawRoot = true
				if local != "opml" {
					return nil, fmt.Errorf("%s:%d: not an OPML file: the root element is <%s>, not <opml>", name, line, t.Name.Local)
				}
			}
			if local == "body" && len(stack) == 1 {
				inBody, sawBody = true, true
			}
			f := frame{}
			if inBody && local == "outline" {
				f.outline = true
				u := attr(t, "xmlUrl")
				if u != "" {
					f.feed = true
					feed := opmlFeed{Title: cleanTitle(attr(t, "title")), URL: u, Type: attr(t, "type"), Line: line}
					if feed.Title == "" {
						feed.Title = cleanTitle(attr(t, "text"))
					}
					for _, fr := range stack {
						if fr.outline && !fr.feed && fr.folder != "" {
							feed.Folders = append(feed.Folders, fr.folder)
						}
					}
					feeds = append(feeds, feed)
				} else {
					// Folders: text is the required attribute; some
					// readers put something else in title.
					f.folder = cleanTitle(attr(t, "text"))
					if f.folder == "" {
						f.folder = cleanTitle(attr(t, "title"))
					}
				}
			}
			stack = append(stack, f)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if len(stack) == 1 {
				inBody = false
			}
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("%s: not an OPML file: it has no XML elements", name)
	}
	if !sawBody {
		return nil, fmt.Errorf("%s: not an OPML subscription list: <opml> has no <body>", name)
	}
	return feeds, nil
}

// attr returns the value of the attribute named name in any letter case,
// trimmed: exports have xmlUrl, xmlurl and XMLURL. Namespaced attributes
// (FreshRSS's frss:...) are not OPML's own and are ignored.
func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && strings.EqualFold(a.Name.Local, name) {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// cleanTitle collapses white space and drops invisible characters, so that
// a title fits on one YAML line.
func cleanTitle(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.Map(func(r rune) rune {
		if r != ' ' && !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s)
}

// opmlUTF8 turns a UTF-16 file (with a byte order mark) into UTF-8 and
// drops a UTF-8 byte order mark; encoding/xml reads neither.
func opmlUTF8(data []byte) ([]byte, error) {
	var order func([]byte) uint16
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte("\xff\xfe")):
		order = func(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
	case bytes.HasPrefix(data, []byte("\xfe\xff")):
		order = func(b []byte) uint16 { return uint16(b[1]) | uint16(b[0])<<8 }
	default:
		return data, nil
	}
	body := data[2:]
	if len(body)%2 != 0 {
		return nil, errors.New("malformed OPML: a UTF-16 file with an odd number of bytes")
	}
	units := make([]uint16, len(body)/2)
	for i := range units {
		units[i] = order(body[2*i:])
	}
	return []byte(string(utf16.Decode(units))), nil
}

// charsetReader decodes the encodings OPML exports are seen in. Files that
// are valid UTF-8 are read as UTF-8 whatever they declare: old exporters
// (NetNewsWire among them) label UTF-8 or plain ASCII as ISO-8859-1.
func charsetReader(label string, r io.Reader, whole []byte) (io.Reader, error) {
	label = strings.ToLower(strings.TrimSpace(label))
	if utf8.Valid(whole) || strings.HasPrefix(label, "utf-16") {
		return r, nil // utf-16 was decoded by opmlUTF8 already
	}
	var table *[256]rune
	switch label {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii":
		table = &latin1
	case "windows-1252", "cp1252":
		table = &cp1252
	default:
		return nil, fmt.Errorf("encoding %q is not supported: convert the file to UTF-8 (e.g. iconv -f %s -t utf-8) and import that", label, label)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var out strings.Builder
	for _, c := range b {
		out.WriteRune(table[c])
	}
	return strings.NewReader(out.String()), nil
}

var latin1, cp1252 [256]rune

func init() {
	for i := range latin1 {
		latin1[i], cp1252[i] = rune(i), rune(i)
	}
	// Windows-1252 differs from Latin-1 in 0x80-0x9F; the unassigned five
	// stay as the C1 controls, as browsers do.
	for i, r := range []rune("€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ") {
		cp1252[0x80+i] = r
	}
}

// sourcesList is where the top-level sources list of feeds.yaml ends, how
// its items are indented, and what is in it.
type sourcesList struct {
	insertAt  int    // byte offset where new items go
	afterLine int    // the line they go after; 0 means the end of the file
	header    string // written before the items: "sources:" when the key is missing
	newline   string // the file's line ending
	dash, key int    // columns (from 0) of an item's "-" and of its keys

	ids  map[string]bool   // source ids in use
	urls map[string]string // normalized url -> source id
}

// findSources reads just enough of feeds.yaml to insert items into its
// sources list. It needs a block-style list (or an empty sources: key).
func findSources(data []byte) (*sourcesList, error) {
	l := &sourcesList{dash: 2, key: 4, newline: "\n", ids: map[string]bool{}, urls: map[string]string{}}
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
	var keyNode, seq, next *yaml.Node
	if root != nil {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "sources" {
				keyNode, seq = root.Content[i], root.Content[i+1]
				if i+2 < len(root.Content) {
					next = root.Content[i+2]
				}
				break
			}
		}
	}
	if keyNode == nil {
		// No sources key: a new block at the end of the (first) document.
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
		return l, nil
	}
	switch {
	case seq.Kind == yaml.SequenceNode && seq.Style&yaml.FlowStyle != 0:
		return nil, fmt.Errorf("line %d: sources is a [...] list: write it as a block list (one \"- id: ...\" per source) to import into it", seq.Line)
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
		l.dash, l.key = keyNode.Column-1+2, keyNode.Column-1+4
	default:
		return nil, fmt.Errorf("line %d: sources is not a list", seq.Line)
	}

	// The list ends at the last line, before the next top-level key, that
	// is content or a comment indented under sources:. A comment at the
	// key's own indentation belongs to what comes after.
	end := docEnd(lines, keyNode.Line)
	if next != nil {
		end = next.Line - 1
	}
	last := keyNode.Line - 1
	for i := end - 1; i >= keyNode.Line; i-- {
		text := string(lines[i][:len(lines[i])-len(lineBreak(lines[i]))])
		trimmed := strings.TrimLeft(text, " \t")
		indent := len(text) - len(trimmed)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") && indent <= keyNode.Column-1 {
			continue
		}
		last = i
		break
	}
	for _, line := range lines[:last+1] {
		l.insertAt += len(line)
	}
	l.afterLine = last + 1
	if nl := lineBreak(lines[last]); nl != "" {
		l.newline = nl
	} else {
		l.header = l.newline // the file ends without a line break
	}
	return l, nil
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
func (l *sourcesList) remember(item *yaml.Node) {
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
	if id != "" {
		l.ids[id] = true
	}
	if u != "" {
		l.urls[newsdesk.URLKey(u)] = id
	}
}

// newSource is a source to add to feeds.yaml.
type newSource struct {
	ID, Title, URL string
	Tags           []string
}

// render returns the YAML text to insert for srcs, indented like the
// existing items; nothing when there is nothing to add.
func (l *sourcesList) render(srcs []newSource, from string) []byte {
	if len(srcs) == 0 {
		return nil
	}
	var b strings.Builder
	nl := l.newline
	dash := strings.Repeat(" ", l.dash)
	key := strings.Repeat(" ", l.key)
	b.WriteString(l.header)
	fmt.Fprintf(&b, "%s# Imported from %s by newsdesk import.%s", dash, cleanTitle(from), nl)
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

// importPlan is what an import does with each feed of the OPML file.
type importPlan struct {
	add   []newSource
	notes []string // "LINE: message" for each feed skipped or merged, in file order

	present, notHTTP, notFeed int
}

// planImport decides which feeds become sources, with which ids and tags.
// A feed listed in several folders (Feedly and Inoreader export it once per
// folder) becomes one source with all the folders' tags.
func planImport(feeds []opmlFeed, l *sourcesList) importPlan {
	var p importPlan
	taken := maps.Clone(l.ids)
	seen := map[string]int{} // normalized url -> index in p.add
	firstLine := map[string]int{}
	present := map[string]bool{}
	for _, f := range feeds {
		if t := strings.ToLower(f.Type); strings.Contains(t, "xpath") || strings.Contains(t, "dotnotation") {
			p.notFeed++
			p.notes = append(p.notes, fmt.Sprintf("%d: skip %s: type %q is a web page scraped by FreshRSS, not a feed", f.Line, f, f.Type))
			continue
		}
		if err := newsdesk.CheckHTTPURL(f.URL); err != nil {
			p.notHTTP++
			title := ""
			if f.Title != "" {
				title = strconv.Quote(f.Title) + ": "
			}
			p.notes = append(p.notes, fmt.Sprintf("%d: skip %sxmlUrl %q %v", f.Line, title, f.URL, err))
			continue
		}
		norm := newsdesk.URLKey(f.URL)
		if id, ok := l.urls[norm]; ok {
			if !present[norm] { // a feed listed in two folders counts once
				p.present++
			}
			present[norm] = true
			as := ""
			if id != "" {
				as = fmt.Sprintf(" as source %q", id)
			}
			p.notes = append(p.notes, fmt.Sprintf("%d: skip %s: already in feeds.yaml%s", f.Line, f, as))
			continue
		}
		tags := folderTags(f.Folders)
		if i, ok := seen[norm]; ok {
			for _, t := range tags {
				if !slices.Contains(p.add[i].Tags, t) {
					p.add[i].Tags = append(p.add[i].Tags, t)
				}
			}
			p.notes = append(p.notes, fmt.Sprintf("%d: %s is also at line %d: one source with the tags of both folders", f.Line, f, firstLine[norm]))
			continue
		}
		id := makeID(f.Title, f.URL, taken)
		taken[id] = true
		seen[norm], firstLine[norm] = len(p.add), f.Line
		p.add = append(p.add, newSource{ID: id, Title: f.Title, URL: f.URL, Tags: tags})
	}
	return p
}

// folderTags turns folder names into tags; names with nothing to slug
// (only emoji, say) give no tag.
func folderTags(folders []string) []string {
	var tags []string
	for _, f := range folders {
		if t := slug(f, maxIDLen); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// summary says what the import does, after "imported " or "would import ".
func (p importPlan) summary(path string) string {
	skipped := p.present + p.notHTTP + p.notFeed
	s := fmt.Sprintf("%s (%d skipped: already present %d, not http(s) %d", plural(len(p.add), "source"), skipped, p.present, p.notHTTP)
	if p.notFeed > 0 {
		s += fmt.Sprintf(", not a feed %d", p.notFeed)
	}
	return s + ") into " + path
}

// unpublishedNote tells the operator which new sources no section
// publishes yet: a section's tags may already take some of them in.
func unpublishedNote(cfg *Config, added []newSource) string {
	published := map[string]bool{}
	for _, sec := range cfg.Sections {
		for _, id := range sec.Sources {
			published[id] = true
		}
	}
	var n int
	var tags []string
	for _, s := range added {
		if published[s.ID] {
			continue
		}
		n++
		for _, t := range s.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	if len(added) == 0 || n == 0 {
		return ""
	}
	who, them := "they are", "them"
	switch {
	case len(added) == 1:
		who, them = "it is", "it"
	case n < len(added):
		who = fmt.Sprintf("%d of them are", n)
	}
	note := who + " in no section yet: add " + them + " to a section's sources or tags to publish " + them
	if len(tags) > 0 {
		slices.Sort(tags)
		note += " (their tags: " + strings.Join(tags, ", ") + ")"
	}
	return note + "\n"
}

const maxIDLen = newsdesk.MaxIDLen

// makeID returns an id for a new source that is newsdesk.ValidID and is not
// in taken: the title as a slug, else (a title in a script with no
// transliteration here, or none at all) the url's host and path, with -2,
// -3... when it is taken.
func makeID(title, feedURL string, taken map[string]bool) string {
	base := slug(title, maxIDLen)
	if base == "" {
		if u, err := url.Parse(feedURL); err == nil {
			base = slug(strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")+u.Path, maxIDLen)
		}
	}
	if base == "" {
		base = "feed"
	}
	if !taken[base] {
		return base
	}
	for n := 2; ; n++ {
		suffix := "-" + strconv.Itoa(n)
		id := cut(base, maxIDLen-len(suffix)) + suffix
		if !taken[id] {
			return id
		}
	}
}

// slug makes s a lower-case ASCII id of at most max bytes: Latin letters
// lose their accents, Cyrillic is transliterated, apostrophes vanish
// ("John's" -> johns), and every other run of characters becomes one "-".
func slug(s string, max int) string {
	var b strings.Builder
	dash := false
	write := func(t string) {
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteString(t)
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			write(string(r))
		case r == '\'' || r == '’' || r == 'ʼ' || unicode.Is(unicode.Mn, r):
			// Apostrophes join words; combining accents just go.
		default:
			if t, ok := translit[r]; ok {
				if t != "" {
					write(t)
				}
				continue
			}
			dash = true
		}
	}
	return cut(b.String(), max)
}

// cut shortens a slug to at most max bytes, at a "-" when there is one in
// the second half, so that words stay whole.
func cut(s string, max int) string {
	if len(s) > max {
		s = s[:max]
		if i := strings.LastIndexByte(s, '-'); i > max/2 {
			s = s[:i]
		}
	}
	return strings.Trim(s, "-")
}

// translit maps lower-case letters to ASCII: Latin letters with accents
// and ligatures, and Cyrillic (Russian, Ukrainian, Belarusian, Serbian,
// Macedonian, Bulgarian) in the simple scheme news sites use for URLs.
var translit = map[rune]string{}

func init() {
	for ascii, letters := range map[string]string{
		"a": "àáâãäåāăąǎ", "ae": "æ", "c": "çćĉċč", "d": "ďđð", "e": "èéêëēĕėęě",
		"g": "ĝğġģ", "h": "ĥħ", "i": "ìíîïĩīĭįı", "ij": "ĳ", "j": "ĵ", "k": "ķ",
		"l": "ĺļľŀł", "n": "ñńņňŉ", "o": "òóôõöøōŏőǒ", "oe": "œ", "r": "ŕŗř",
		"s": "śŝşšș", "ss": "ß", "t": "ţťŧț", "th": "þ", "u": "ùúûüũūŭůűųǔ",
		"w": "ŵ", "y": "ýÿŷ", "z": "źżž",

		"b": "б", "v": "в", "f": "ф", "m": "м", "p": "п", "zh": "ж", "kh": "х",
		"ts": "ц", "ch": "ч", "sh": "ш", "shch": "щ", "yu": "ю", "ya": "я", "ye": "є",
		"yi": "ї", "dj": "ђ", "lj": "љ", "nj": "њ", "dz": "џѕ", "gj": "ѓ", "kj": "ќ",
	} {
		for _, r := range letters {
			translit[r] = ascii
		}
	}
	// Cyrillic letters that share an ASCII letter with the ones above.
	for r, ascii := range map[rune]string{
		'а': "a", 'г': "g", 'ґ': "g", 'д': "d", 'е': "e", 'ё': "e", 'э': "e", 'з': "z",
		'и': "i", 'і': "i", 'й': "y", 'ы': "y", 'к': "k", 'л': "l", 'н': "n", 'о': "o",
		'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ў': "u", 'ј': "j", 'ћ': "c", 'ъ': "", 'ь': "",
	} {
		translit[r] = ascii
	}
}

// writeFileAtomic replaces the file at path, which held old, with data: a
// temporary file in the same folder with the same mode is renamed over it,
// so a crash leaves the old file or the new one, never half of one. A
// symbolic link is followed and the file it points to replaced.
func writeFileAtomic(path string, old, data []byte) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(real), "."+filepath.Base(real)+".import-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(fi.Mode().Perm())
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// An editor may have saved the file while the OPML was read.
	if now, err := os.ReadFile(real); err != nil || !bytes.Equal(now, old) {
		return fmt.Errorf("%s changed while importing; nothing was written: run the import again", path)
	}
	if err := os.Rename(tmp.Name(), real); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
