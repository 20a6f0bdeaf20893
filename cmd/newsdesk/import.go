package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/internal/atomicfile"
	"github.com/newsdesk/newsdesk/opml"
)

// cmdImport adds the feeds of another reader's OPML export to feeds.yaml.
//
// feeds.yaml is edited as text, not re-encoded: the new sources are
// inserted after the last item of the top-level sources list, so every
// comment and blank line the operator wrote stays as it was. The YAML tree
// is only used to find where that list ends and how it is indented.
func cmdImport(ctx context.Context, e *env, args []string) error {
	fs, configPath := e.flags("import")
	dryRun := fs.Bool("dry-run", false, "print the YAML that would be added and what would be skipped, without changing feeds.yaml")
	file, err := parseOneArg(fs, args, "FILE.opml")
	if err != nil {
		return err
	}

	doc, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read OPML: %w", err)
	}
	feeds, err := opml.Parse(file, doc)
	if err != nil {
		return err
	}
	if len(feeds) == 0 {
		return fmt.Errorf("%s lists no feeds: none of its <outline> elements has an xmlUrl", file)
	}

	path := *configPath
	data, dir, list, err := e.readSources(path)
	if err != nil {
		return err
	}

	plan := planImport(feeds, list)
	for _, n := range plan.notes {
		fmt.Fprintf(e.stderr, "%s:%s\n", file, n)
	}

	insert := list.Render(plan.add, filepath.Base(file))
	out := list.Insert(data, insert)
	var cfg *config.Config
	if len(plan.add) > 0 {
		cfg, err = config.Parse(path, dir, out)
		if err != nil {
			// Problems the file already had are the operator's to fix, at
			// lines that are right in the file as it is.
			if _, perr := config.Parse(path, dir, data); perr != nil {
				return e.refuse(path, perr)
			}
			var ps config.Problems
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
		if list.AfterLine > 0 {
			where = fmt.Sprintf("after line %d", list.AfterLine)
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

// readSources reads feeds.yaml at path as text, with the folder its paths
// are relative to and where its sources list ends. A file the YAML library
// cannot read is refused with the same words as 'newsdesk check'.
func (e *env) readSources(path string) (data []byte, dir string, list *config.SourcesList, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("read config: %w (give another file with -config PATH)", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("read config: %w", err)
	}
	dir = filepath.Dir(abs)
	list, err = config.FindSources(data)
	if err != nil {
		if _, perr := config.Parse(path, dir, data); perr != nil {
			return nil, "", nil, e.refuse(path, perr)
		}
		return nil, "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, dir, list, nil
}

// refuse prints the problems feeds.yaml already has, one per line, and
// fails the import.
func (e *env) refuse(path string, err error) error {
	var ps config.Problems
	if !errors.As(err, &ps) {
		return err
	}
	for _, p := range ps {
		fmt.Fprintln(e.stderr, p)
	}
	fmt.Fprintf(e.stderr, "newsdesk: %s has %s; fix %s and import again ('newsdesk check' lists them); nothing was written\n", path, plural(len(ps), "problem"), pronoun(len(ps)))
	return errReported
}

// importPlan is what an import does with each feed of the OPML file.
type importPlan struct {
	add   []newsdesk.Source // the sources to add: ID, Title, URL and Tags
	notes []string          // "LINE: message" for each feed skipped or merged, in file order

	present, notHTTP, notFeed int
}

// planImport decides which feeds become sources, with which ids and tags.
// A feed listed in several folders (Feedly and Inoreader export it once per
// folder) becomes one source with all the folders' tags.
func planImport(feeds []opml.Feed, l *config.SourcesList) importPlan {
	var p importPlan
	taken := map[string]bool{}  // ids in use
	have := map[string]string{} // normalized url -> the id of the source with it
	for _, s := range l.Sources {
		if s.ID != "" {
			taken[s.ID] = true
		}
		if s.URL != "" {
			have[newsdesk.URLKey(s.URL)] = s.ID
		}
	}
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
		if id, ok := have[norm]; ok {
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
		id := config.MakeID(f.Title, f.URL, taken)
		taken[id] = true
		seen[norm], firstLine[norm] = len(p.add), f.Line
		p.add = append(p.add, newsdesk.Source{ID: id, Title: f.Title, URL: f.URL, Tags: tags})
	}
	return p
}

// folderTags turns folder names into tags; names with nothing to slug
// (only emoji, say) give no tag.
func folderTags(folders []string) []string {
	var tags []string
	for _, f := range folders {
		if t := config.Slug(f); t != "" && !slices.Contains(tags, t) {
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
func unpublishedNote(cfg *config.Config, added []newsdesk.Source) string {
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
	f, err := atomicfile.Create(real)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(fi.Mode().Perm())
	}
	if err != nil {
		f.Discard()
		return fmt.Errorf("write %s: %w", path, err)
	}
	// An editor may have saved the file while the OPML was read.
	changed := fmt.Errorf("%s changed while importing; nothing was written: run the import again", path)
	err = f.CommitIf(func() error {
		if now, err := os.ReadFile(real); err != nil || !bytes.Equal(now, old) {
			return changed
		}
		return nil
	})
	if err != nil && err != changed {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return err
}
