package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/internal/progress"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store"
)

// listFlag collects a flag given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func cmdRun(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("run")
	force := fs.Bool("force", false, "fetch every chosen source now, even if it is not due")
	var only listFlag
	fs.Var(&only, "source", "fetch only the source with this `ID` (repeatable)")
	verbose := fs.Bool("v", false, "log every fetch, not only failures")
	wait := fs.Duration("wait", 0, "when another run holds the database, wait up to `DURATION` for it (0: exit at once with code 75)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig(*config)
	if err != nil {
		return err
	}
	sources, err := e.chooseSources(cfg, only)
	if err != nil {
		return err
	}
	db, err := e.openForRun(cfg, *wait)
	if err != nil {
		return err
	}
	defer db.Close()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	m, err := join(ctx, db, "run", cfg, e.logger(level))
	if err != nil {
		return err
	}
	defer m.leave()
	if e.daemon == nil { // serve does its own housekeeping
		if m == nil { // a shared store needs no socket: every command opens it
			stop := answerWhileRunning(ctx, cfg, db, e.logger(level))
			defer stop()
		}
		purgeRemoved(cfg, db, e.logger(level), time.Now())
	}
	sched := newScheduler(cfg, db, e.logger(level), m)
	if e.daemon != nil {
		// Inside serve: its scheduler, so a source it is fetching is not
		// fetched twice and the per-host limits hold across both, and its
		// commit hook, so the served feeds are re-rendered.
		sched = e.daemon.sched
	}
	start := time.Now()
	var bar *progress.Bar
	var onCommit func(fetcher.Outcome)
	if isTerminal(e.stderr) {
		// A person is watching: show progress, then clear it for the summary.
		// The hook is this pass's own: serve's scheduler keeps its own.
		bar = progress.New(e.stderr, len(sources))
		onCommit = func(o fetcher.Outcome) { bar.Done(o.State.New, o.Err != nil) }
	}
	outcomes, err := sched.RunOnce(ctx, sources, *force, e.logger(level), onCommit)
	if e.daemon != nil {
		e.daemon.renders.wait() // serve shows what this run fetched when it answers
	}
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if err := db.Damaged(); err != nil { // found by a fetch: each one failed with it
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: the sources that finished are stored, the rest will be fetched next run")
	}
	if cfg.PublishDir != "" {
		// serve pings after its own renders; a run pings the external hubs
		// about the sections its export changed.
		ping := e.daemon == nil && len(cfg.WebSubHubs) > 0
		var before map[string]newsdesk.SectionVersion
		if ping {
			if before, err = db.SectionVersions(); err != nil {
				return err
			}
		}
		if err := publish(cfg, db, e.logger(level)); err != nil {
			return err
		}
		if ping {
			pingAfterExport(ctx, cfg, db, before, e.logger(level))
		}
	}
	summary := fetcher.Summary(outcomes, len(sources), *force, time.Since(start))
	if cfg.PublishDir != "" {
		summary += "; exported to " + cfg.PublishDir
	}
	fmt.Fprintln(e.stdout, summary)
	return nil
}

// openForRun opens the database for a run, waiting up to wait for another
// run that holds it; a file still held is exit 75 with how to go on.
func (e *env) openForRun(cfg *config.Config, wait time.Duration) (store.Store, error) {
	db, err := e.openStore(cfg, wait)
	if errors.Is(err, store.ErrLocked) {
		how := "wait for it with -wait DURATION, or run again later"
		if wait > 0 {
			how = fmt.Sprintf("waited %s; run again later", wait)
		}
		return nil, busyError{fmt.Errorf("%w: %s (exit 75, EX_TEMPFAIL)", err, how)}
	}
	if err != nil {
		return nil, err
	}
	return db, nil
}

// publish writes the static export of what is stored to cfg.PublishDir.
func publish(cfg *config.Config, db store.Store, log *slog.Logger) error {
	site, err := publisher.Render(db, renderConfig(cfg, db))
	if err != nil {
		return err
	}
	if err := site.WriteDir(cfg.PublishDir); err != nil {
		return err
	}
	if sk := site.Skipped(); len(sk) > 0 {
		log.Warn("private sections are not exported: a static web server cannot check their tokens", "sections", strings.Join(sk, ", "))
	}
	return nil
}

// chooseSources returns the sources named with -source, or all of them.
// Inside serve they are the sources as serve knows them, so that a stale
// copy of feeds.yaml cannot flip a source's URL back and forth.
func (e *env) chooseSources(cfg *config.Config, only []string) ([]newsdesk.Source, error) {
	sources, err := selectSources(cfg, only)
	if err != nil || e.daemon == nil {
		return sources, err
	}
	return e.daemon.sourcesByID(sources)
}

// selectSources returns the sources of cfg named with -source, or all of them.
func selectSources(cfg *config.Config, only []string) ([]newsdesk.Source, error) {
	if len(only) == 0 {
		return cfg.Sources, nil
	}
	var out []newsdesk.Source
	ids := make([]string, len(cfg.Sources))
	for i, s := range cfg.Sources {
		ids[i] = s.ID
	}
	for _, id := range only {
		src, ok := cfg.Source(id)
		if !ok {
			return nil, usageError{fmt.Sprintf("-source %s: no such source in %s%s", id, cfg.Path, config.Suggest(id, ids))}
		}
		out = append(out, src)
	}
	return out, nil
}

var _ flag.Value = (*listFlag)(nil)
