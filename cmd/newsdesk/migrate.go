package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/internal/progress"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// `newsdesk migrate` copies a store between engines: -from FILE.db copies
// a bbolt file into the PostgreSQL store feeds.yaml names, -to FILE.db
// copies that store into a new bbolt file. Either way the store copied
// into must be empty, and what was copied is checked (store.Copy).

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs, configPath := e.flags("migrate")
	from := fs.String("from", "", "copy the bbolt database `FILE` into the PostgreSQL store")
	to := fs.String("to", "", "copy the PostgreSQL store into a new bbolt database `FILE`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*from == "") == (*to == "") {
		return usageError{"give either -from FILE.db (copy a bbolt file into PostgreSQL) or -to FILE.db (copy PostgreSQL into a new bbolt file), see 'newsdesk migrate -h'"}
	}
	cfg, err := e.loadConfig(*configPath)
	if err != nil {
		return err
	}
	if cfg.Postgres == "" {
		return fmt.Errorf("%s names no PostgreSQL store to copy to or from: set storage.postgres in it, or %s, to the database's URL", cfg.Path, config.DatabaseURLEnv)
	}
	pg, err := e.openStore(cfg, 0)
	if err != nil {
		return err
	}
	defer pg.Close()
	if *from != "" {
		return e.migrateFrom(ctx, pg, *from)
	}
	return e.migrateTo(ctx, pg, *to)
}

// migrateFrom copies the bbolt file into pg, which must be empty and
// unused.
func (e *env) migrateFrom(ctx context.Context, pg store.Store, file string) error {
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("no bbolt database to copy: %w", err)
	}
	if err := refuseInUse(ctx, pg); err != nil {
		return err
	}
	src, err := bolt.Open(file, bolt.Options{ReadOnly: true})
	if errors.Is(err, store.ErrLocked) {
		return busyError{fmt.Errorf("%w: stop newsdesk serve (or let newsdesk run finish) first, so that the copy is of everything it stored", err)}
	}
	if err != nil {
		return err
	}
	defer src.Close()
	return e.copyStore(ctx, src, pg, file)
}

// migrateTo copies pg into a new bbolt file, built beside it under another
// name and renamed into place once the copy is checked.
func (e *env) migrateTo(ctx context.Context, pg store.Store, file string) error {
	if _, err := os.Lstat(file); err == nil {
		return fmt.Errorf("%s exists: migrate -to writes a new bbolt file; give another name, or move that file away", file)
	}
	dir, err := os.MkdirTemp(filepath.Dir(file), ".newsdesk-migrate-*")
	if err != nil {
		return fmt.Errorf("migrate -to: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(file))
	dst, err := bolt.Open(tmp, bolt.Options{})
	if err != nil {
		return err
	}
	err = e.copyStore(ctx, pg, dst, file)
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("migrate -to: %w", cerr)
	}
	if err != nil {
		return err
	}
	if _, err := os.Lstat(file); err == nil {
		return fmt.Errorf("%s appeared while the copy was made: the copy is not written over it", file)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("migrate -to: %w", err)
	}
	return nil
}

// instancesWithin is how recently an instance must have been seen for
// status to list it and migrate to count it as running: four missed
// heartbeats (heartbeatEvery) and it is taken for gone.
const instancesWithin = 4 * heartbeatEvery

// refuseInUse refuses to copy into a store that instances are using: they
// would fetch and write while the copy loads.
func refuseInUse(ctx context.Context, db store.Store) error {
	c, ok := db.(store.Cluster)
	if !ok {
		return nil
	}
	ins, err := c.Instances(ctx, instancesWithin)
	if err != nil || len(ins) == 0 {
		return err
	}
	var names []string
	for _, in := range ins {
		names = append(names, fmt.Sprintf("newsdesk %s on %s", in.Command, in.Host))
	}
	return fmt.Errorf("%s is in use by %s (seen within %s): stop them first, so that nothing is written while the copy loads", db.Path(), strings.Join(names, ", "), instancesWithin)
}

// copyStore copies src into dst with a progress bar on a terminal, and
// prints the summary line, which names file as the bbolt side.
func (e *env) copyStore(ctx context.Context, src, dst store.Store, file string) error {
	start := time.Now()
	var bar *progress.Count
	show := func(r store.CopyReport) {
		if !isTerminal(e.stderr) {
			return
		}
		if bar == nil {
			bar = progress.NewCount(e.stderr, r.Total, "copying")
		}
		bar.Set(r.Items, max(r.Total, r.Items), fmt.Sprintf("copying: %d items, %d tombstones", r.Items, r.Tombstones))
	}
	rep, err := store.Copy(ctx, src, dst, show)
	if bar != nil {
		bar.Finish()
	}
	if errors.Is(err, store.ErrNotEmpty) {
		return fmt.Errorf("%w; migrate copies only into an empty store: point storage.postgres (or %s) at a new database (createdb), or copy into another file", err, config.DatabaseURLEnv)
	}
	if err != nil {
		return err
	}
	from, to := file, dst.Path()
	if _, ok := src.(store.Cluster); ok {
		from, to = src.Path(), file
	}
	extra := "" // only stores with full_text sources have articles, only those with WebSub subscriptions
	if rep.Articles > 0 {
		extra = ", " + plural(rep.Articles, "article")
	}
	if rep.WebSub > 0 {
		extra += ", " + plural(rep.WebSub, "websub subscription")
	}
	fmt.Fprintf(e.stdout, "migrated %s to %s: %s, %s, %s, %s, %s%s%s; item counts equal (%s)\n", from, to,
		plural(rep.Sources, "source"), plural(rep.Items, "item"), plural(rep.Tombstones, "tombstone"),
		plural(rep.Decisions, "editorial decision"), plural(rep.Sections, "section version"), extra, skipped(rep),
		time.Since(start).Round(time.Millisecond))
	for _, n := range rep.Notes {
		fmt.Fprintf(e.stdout, "note: %s\n", n)
	}
	return nil
}

// skipped says what the copy left out and why, as "; 3 tombstones skipped
// (WHY)", or "".
func skipped(rep store.CopyReport) string {
	var out string
	for _, kind := range slices.Sorted(maps.Keys(rep.Skipped)) {
		why := strings.TrimPrefix(rep.Why[kind], store.ErrSkipped.Error()+": ")
		out += fmt.Sprintf("; %s skipped (%s)", plural(rep.Skipped[kind], kind), why)
	}
	return out
}
