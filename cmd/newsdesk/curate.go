package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/store"
)

// The editor's commands: preview and explain a section, pin and hide items.

// section returns the section of c with the given id.
func section(c *config.Config, id string) (*newsdesk.Section, error) {
	ids := make([]string, len(c.Sections))
	for i := range c.Sections {
		if c.Sections[i].ID == id {
			return &c.Sections[i], nil
		}
		ids[i] = c.Sections[i].ID
	}
	return nil, usageError{fmt.Sprintf("no section %q in %s%s (sections: %s)", id, c.Path, config.Suggest(id, ids), strings.Join(ids, ", "))}
}

// sectionArgs parses `COMMAND [flags] SECTION [ITEM]` and opens what the
// command needs.
func (e *env) sectionArgs(name string, args []string, withItem bool) (*config.Config, store.Store, *newsdesk.Section, string, error) {
	fs, config := e.flags(name)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, nil, nil, "", err
	}
	want := 1
	if withItem {
		want = 2
	}
	if len(pos) != want {
		return nil, nil, nil, "", usageError{fmt.Sprintf("want %s (see 'newsdesk %s -h')", commandArgs(name), name)}
	}
	cfg, db, err := e.open(*config)
	if err != nil {
		return nil, nil, nil, "", err
	}
	sec, err := section(cfg, pos[0])
	if err != nil {
		db.Close()
		return nil, nil, nil, "", err
	}
	item := ""
	if withItem {
		item = pos[1]
	}
	return cfg, db, sec, item, nil
}

// sectionItem is sectionArgs for `COMMAND SECTION ITEM`, with the item
// resolved; the caller closes the database.
func (e *env) sectionItem(name string, args []string) (store.Store, *newsdesk.Section, newsdesk.Item, error) {
	_, db, sec, arg, err := e.sectionArgs(name, args, true)
	if err != nil {
		return nil, nil, newsdesk.Item{}, err
	}
	it, err := resolveItem(db, sec, arg)
	if err != nil {
		db.Close()
		return nil, nil, newsdesk.Item{}, err
	}
	return db, sec, it, nil
}

func commandArgs(name string) string {
	return commands[slices.IndexFunc(commands, func(c command) bool { return c.name == name })].args
}

// resolveItem finds the item an editor means among the section's sources:
// SOURCE:HASH (as preview shows it, a prefix of at least 6 hex digits), the
// HASH prefix alone (looked up in every source of the section), the item's
// urn:newsdesk: id from a feed, SOURCE/ID, or the item's own id or link.
func resolveItem(db store.Store, sec *newsdesk.Section, arg string) (newsdesk.Item, error) {
	arg = strings.TrimSpace(arg)
	src, rest, hasSrc := newsdesk.ParseItemID(arg)
	if !hasSrc {
		src, rest = "", strings.ToLower(arg) // a bare hash: any source
	}
	isHash := len(rest) >= 6 && strings.Trim(rest, "0123456789abcdef") == ""
	var matches []newsdesk.Item
	for _, id := range sec.Sources {
		if isHash && src != "" && id != src {
			continue
		}
		err := db.Items(id, func(it newsdesk.Item) bool {
			ref := it.Ref()
			if isHash && strings.HasPrefix(ref.Hash(), rest) ||
				arg == id+"/"+it.ID || arg == it.ID || arg == it.Link {
				matches = append(matches, it)
			}
			return len(matches) < maxMatches
		})
		if err != nil {
			return newsdesk.Item{}, err
		}
		if len(matches) == maxMatches {
			break
		}
	}
	switch len(matches) {
	case 0:
		return newsdesk.Item{}, fmt.Errorf("no item %q among the items of section %q (see 'newsdesk preview %s' for ids)", arg, sec.ID, sec.ID)
	case 1:
		return matches[0], nil
	}
	var refs []string
	for _, m := range matches {
		refs = append(refs, fmt.Sprintf("%s %q", m.Ref().Short(), truncate(m.Title, 40)))
	}
	count := fmt.Sprint(len(matches))
	if len(matches) == maxMatches {
		count = "at least " + count
	}
	return newsdesk.Item{}, fmt.Errorf("%q matches %s items of section %q: %s; give more of the id, or SOURCE:HASH", arg, count, sec.ID, strings.Join(refs, ", "))
}

// maxMatches is how many candidates an ambiguous item reference lists.
const maxMatches = 10

func cmdPreview(ctx context.Context, e *env, args []string) error {
	cfg, db, sec, _, err := e.sectionArgs("preview", args, false)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	items, err := db.Section(sec.Query(now))
	if err != nil {
		return err
	}
	edits, err := db.Edits(sec.ID)
	if err != nil {
		return err
	}
	pinned := map[newsdesk.ItemRef]bool{}
	for _, ed := range edits {
		pinned[ed.Ref] = ed.Decision == newsdesk.Pin
	}
	fmt.Fprintf(e.stdout, "%s (%s): %s of %d at most, from %s\n\n", sec.Title, sec.ID, plural(len(items), "item"), sec.Query(now).Limit, strings.Join(sec.Sources, ", "))
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPUBLISHED\tSOURCE\tTITLE\tWHY")
	for _, it := range items {
		why := "no rules: every item"
		switch {
		case pinned[it.Ref()]:
			why = "pinned"
		default:
			if _, rule := sec.Keeps(&it, now); rule != "" {
				why = rule
			}
		}
		if len(it.Duplicates) > 0 {
			why += fmt.Sprintf(" (+%d duplicate", len(it.Duplicates)) + map[bool]string{true: "s", false: ""}[len(it.Duplicates) > 1] + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Ref().Short(), it.Published.Local().Format("2006-01-02 15:04"), sourceTitle(cfg, it.SourceID), truncate(it.Title, 70), why)
	}
	return tw.Flush()
}

func sourceTitle(cfg *config.Config, id string) string {
	if src, ok := cfg.Source(id); ok && src.Title != "" {
		return src.Title
	}
	return id
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func cmdExplain(ctx context.Context, e *env, args []string) error {
	db, sec, it, err := e.sectionItem("explain", args)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	ref := it.Ref()
	fmt.Fprintf(e.stdout, "%s %q (%s, published %s)\n", ref.Short(), it.Title, it.SourceID, it.Published.Local().Format("2006-01-02 15:04"))
	edits, err := db.Edits(sec.ID)
	if err != nil {
		return err
	}
	for _, ed := range edits {
		if ed.Ref != ref {
			continue
		}
		switch ed.Decision {
		case newsdesk.Hide:
			fmt.Fprintf(e.stdout, "dropped: hidden by an editor on %s ('newsdesk unhide %s %s' shows it again)\n", ed.At.Local().Format("2006-01-02 15:04"), sec.ID, ref.Short())
		case newsdesk.Pin:
			fmt.Fprintf(e.stdout, "kept: pinned by an editor on %s, shown first whatever the rules say\n", ed.At.Local().Format("2006-01-02 15:04"))
		}
		return nil
	}
	kept, rule := sec.Keeps(&it, now)
	switch {
	case !kept:
		if rule == "no include rule matched" {
			var texts []string
			for _, r := range sec.Include {
				texts = append(texts, r.Text)
			}
			rule += " (include: " + strings.Join(texts, ", ") + ")"
		}
		fmt.Fprintf(e.stdout, "dropped: %s\n", rule)
		return nil
	case rule == "":
		fmt.Fprintln(e.stdout, "kept: the section has no include rules and no exclude rule matched")
	default:
		fmt.Fprintf(e.stdout, "kept: matches %s\n", strings.TrimPrefix(rule, "include "))
	}
	items, err := db.Section(sec.Query(now))
	if err != nil {
		return err
	}
	for i, shown := range items {
		if shown.Ref() == ref {
			fmt.Fprintf(e.stdout, "in the section now, at %d of %d\n", i+1, len(items))
			return nil
		}
		if slices.Contains(shown.Duplicates, ref) {
			fmt.Fprintf(e.stdout, "not shown: the same story as %s %q, which newsdesk saw first\n", shown.Ref().Short(), shown.Title)
			return nil
		}
	}
	fmt.Fprintf(e.stdout, "not shown: older than the section's newest %d items (limit), or the same story as an item shown from another source\n", sec.Query(now).Limit)
	return nil
}

// cmdDecide records or removes an editorial decision: pin, unpin, hide,
// unhide.
func cmdDecide(name string) func(ctx context.Context, e *env, args []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		db, sec, it, err := e.sectionItem(name, args)
		if err != nil {
			return err
		}
		defer db.Close()
		ref := it.Ref()
		d := newsdesk.Decision(strings.TrimPrefix(name, "un"))
		if strings.HasPrefix(name, "un") {
			edits, err := db.Edits(sec.ID)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(edits, func(ed store.Edit) bool { return ed.Ref == ref && ed.Decision == d }) {
				return fmt.Errorf("%s is not %s in section %q", ref.Short(), map[newsdesk.Decision]string{newsdesk.Pin: "pinned", newsdesk.Hide: "hidden"}[d], sec.ID)
			}
			d = ""
		}
		if err := db.SetDecision(sec.ID, ref, d, time.Now()); err != nil {
			return err
		}
		if e.daemon != nil { // inside serve: readers see the decision at once
			if err := e.daemon.site.RebuildSections(sec.ID); err != nil {
				// The decision is stored; serve shows it at its next render.
				fmt.Fprintf(e.stderr, "newsdesk %s: warning: the decision is stored, but serve could not re-render %s now: %v\n", name, sec.ID, err)
			} else {
				e.daemon.observeSections(*sec)
			}
		}
		done := map[string]string{"pin": "pinned", "unpin": "unpinned", "hide": "hidden", "unhide": "shown again"}[name]
		fmt.Fprintf(e.stdout, "%s %s %q in section %s\n", done, ref.Short(), it.Title, sec.ID)
		return nil
	}
}
