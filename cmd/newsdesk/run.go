package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store"
	"github.com/schollz/progressbar/v3"
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
	sources, err := chooseSources(cfg, only)
	if err != nil {
		return err
	}
	if e.daemon != nil {
		// Inside serve, fetch the sources as serve knows them, so that a
		// stale copy of feeds.yaml cannot flip a source's URL back and forth.
		if sources, err = e.daemon.sourcesByID(sources); err != nil {
			return err
		}
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
	if e.daemon == nil { // serve does its own housekeeping
		stop := answerWhileRunning(ctx, cfg, db, e.logger(level))
		defer stop()
		purgeRemoved(cfg, db, e.logger(level), time.Now())
	}
	sched := newScheduler(cfg, db, e.logger(level))
	if e.daemon != nil {
		// Inside serve: its scheduler, so a source it is fetching is not
		// fetched twice and the per-host limits hold across both, and its
		// commit hook, so the served feeds are re-rendered.
		sched = e.daemon.sched
	}
	start := time.Now()
	var bar *progress
	var onCommit func(fetcher.Outcome)
	if isTerminal(e.stderr) {
		// A person is watching: show progress, then clear it for the summary.
		// The hook is this pass's own: serve's scheduler keeps its own.
		bar = newProgress(e.stderr, len(sources))
		onCommit = bar.committed
	}
	outcomes, err := sched.RunOnce(ctx, sources, *force, e.logger(level), onCommit)
	if bar != nil {
		bar.finish()
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
		if err := publish(cfg, db, e.logger(level)); err != nil {
			return err
		}
	}
	fmt.Fprintln(e.stdout, runSummary(outcomes, len(sources), *force, time.Since(start), cfg.PublishDir))
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
	site, err := publisher.Render(db, publisherConfig(cfg))
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
func chooseSources(cfg *config.Config, only []string) ([]newsdesk.Source, error) {
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

// runSummary is the one line `run` prints: what was fetched and how it went.
func runSummary(outcomes []fetcher.Outcome, chosen int, force bool, took time.Duration, publishDir string) string {
	var ok, notModified, failed, added, updated, busy int
	var failures []string
	for _, o := range outcomes {
		switch {
		case o.Kind == fetcher.KindBusy:
			busy++
		case o.Err != nil:
			failed++
			failures = append(failures, o.Source.ID)
		case o.State.Result == newsdesk.ResultNotModified:
			notModified++
		default:
			ok++
			added += o.State.New
			updated += o.State.Updated
		}
	}
	s := fmt.Sprintf("fetched %d of %s in %s: %d ok (%d new, %d updated), %d not modified, %d failed",
		len(outcomes)-busy, plural(chosen, "source"), took.Round(time.Millisecond), ok, added, updated, notModified, failed)
	if failed > 0 {
		s += " (" + strings.Join(failures, ", ") + "; see 'newsdesk status')"
	}
	if busy > 0 {
		s += fmt.Sprintf("; %d left to newsdesk serve, which was fetching %s", busy, map[bool]string{true: "it", false: "them"}[busy == 1])
	}
	switch skipped := chosen - len(outcomes); {
	case skipped > 0 && force:
		s += fmt.Sprintf("; %d held back (gone, or the publisher's Retry-After has not passed)", skipped)
	case skipped > 0:
		s += fmt.Sprintf("; %d not due yet (-force fetches them)", skipped)
	}
	if publishDir != "" {
		s += "; exported to " + publishDir
	}
	return s
}

var _ flag.Value = (*listFlag)(nil)

// progress is run's progress bar on a terminal: sources done of those
// chosen, new items, failures, elapsed time. Off a terminal (cron) there is
// none: only the summary line and the errors.
type progress struct {
	mu          sync.Mutex
	bar         *progressbar.ProgressBar
	added, fail int
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("fetching"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)}
}

func (p *progress) committed(o fetcher.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.added += o.State.New
	if o.Err != nil {
		p.fail++
	}
	p.bar.Add(1)
	p.bar.Describe(fmt.Sprintf("fetching: %d new, %d failed", p.added, p.fail))
}

func (p *progress) finish() {
	p.bar.Finish()
	p.bar.Clear()
}
