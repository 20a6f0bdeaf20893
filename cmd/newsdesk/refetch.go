package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/curate"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/store"
)

// cmdRefetchText is `newsdesk refetch-text SOURCE [ITEM]`: after an
// operator changed a source's full_text selector or remove rules, extract
// its stored items' articles again (from the kept pages where it can,
// fetching the others), or ITEM's alone, and show the result where the
// sections are published: serve re-renders them, a run-style export is
// written again.
func cmdRefetchText(ctx context.Context, e *env, args []string) error {
	fs, configPath := e.flags("refetch-text")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageError{fmt.Sprintf("want %s (see 'newsdesk refetch-text -h')", commandArgs("refetch-text"))}
	}
	cfg, err := e.loadConfig(*configPath)
	if err != nil {
		return err
	}
	chosen, err := e.chooseSources(cfg, pos[:1])
	if err != nil {
		return err
	}
	src := chosen[0]
	if !src.FullText.Enabled {
		return fmt.Errorf("source %q does not have full_text on in %s: add `full_text: true` (or a full_text mapping) to it first", src.ID, cfg.Path)
	}
	db, err := e.openForRun(cfg, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	var ids []string
	if len(pos) == 2 {
		it, err := curate.ResolveInSource(db, src.ID, pos[1])
		if err != nil {
			return err
		}
		ids = []string{it.ID}
	}
	sched := newScheduler(cfg, db, e.logger(slog.LevelError), nil) // stdout says what failed
	if e.daemon != nil {                                           // serve's scheduler: its per-host slots and held hosts
		sched = e.daemon.sched
	}
	var n, failed int
	err = sched.RefetchText(ctx, src, ids, func(r fetcher.RefetchResult) {
		n++
		ref := newsdesk.ItemRef{SourceID: src.ID, ID: r.ItemID}
		fmt.Fprintf(e.stdout, "%s %q: %s\n", ref.Short(), curate.Truncate(r.Title, 60), refetchLine(r))
		if r.Action == fetcher.RefetchFailed {
			failed++
		}
	})
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("refetch-text %s: %s, %d failed", src.ID, plural(n, "item"), failed)
	if n > failed {
		summary += published(e, cfg, db, src.ID)
	}
	fmt.Fprintln(e.stdout, summary)
	return nil
}

// refetchLine says what RefetchText did for one item.
func refetchLine(r fetcher.RefetchResult) string {
	switch r.Action {
	case fetcher.RefetchExtracted:
		return fmt.Sprintf("extracted again from the stored page, %s", plural(r.Chars, "character"))
	case fetcher.RefetchFetched:
		return fmt.Sprintf("fetched and extracted, %s", plural(r.Chars, "character"))
	}
	return fmt.Sprintf("failed (%s): %s", r.Kind, r.Error)
}

// published shows the refetched articles where the sections are
// published, and says where: serve's feeds, or the export of publish.dir.
func published(e *env, cfg *config.Config, db store.Store, sourceID string) string {
	if e.daemon != nil {
		e.daemon.renderSections(sectionsOf(e.daemon.config(), []string{sourceID}, nil))
		e.daemon.renders.wait()
		return "; serve's sections rendered again"
	}
	if cfg.PublishDir == "" {
		return ""
	}
	if err := publish(cfg, db, e.logger(slog.LevelWarn)); err != nil {
		return fmt.Sprintf("; the export was not written: %v", err)
	}
	return "; exported to " + cfg.PublishDir
}
