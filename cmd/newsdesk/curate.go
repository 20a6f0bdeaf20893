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
	"github.com/newsdesk/newsdesk/curate"
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
	it, err := curate.Resolve(db, sec, arg)
	if err != nil {
		db.Close()
		return nil, nil, newsdesk.Item{}, err
	}
	return db, sec, it, nil
}

func commandArgs(name string) string {
	return commands[slices.IndexFunc(commands, func(c command) bool { return c.name == name })].args
}

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
		why := curate.Why(sec, &it, pinned[it.Ref()], now)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Ref().Short(), it.Published.Local().Format("2006-01-02 15:04"), sourceTitle(cfg, it.SourceID), curate.Truncate(it.Title, 70), why)
	}
	return tw.Flush()
}

func sourceTitle(cfg *config.Config, id string) string {
	if src, ok := cfg.Source(id); ok && src.Title != "" {
		return src.Title
	}
	return id
}

func cmdExplain(ctx context.Context, e *env, args []string) error {
	db, sec, it, err := e.sectionItem("explain", args)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	edits, err := db.Edits(sec.ID)
	if err != nil {
		return err
	}
	var decided *curate.Decision
	for _, ed := range edits {
		if ed.Ref == it.Ref() {
			decided = &curate.Decision{Decision: ed.Decision, At: ed.At}
			break
		}
	}
	shown := func() ([]newsdesk.Item, error) { return db.Section(sec.Query(now)) }
	return curate.Explain(e.stdout, sec, it, decided, shown, now)
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
