package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

func cmdCheck(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("check")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfigContext(ctx, *config)
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(e.stderr, w)
	}
	warnings, err := sourceWarnings(cfg)
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, w)
	}
	if err != nil {
		// Not a problem at a place in the file: say so in other words.
		fmt.Fprintf(e.stderr, "newsdesk check: note: sources not checked against the database (gone, moved): %v\n", err)
	}
	fmt.Fprintf(e.stdout, "%s: ok, %s, %s\n", *config, plural(len(cfg.Sources), "source"), plural(len(cfg.Sections), "section"))
	return nil
}

// sourceWarnings are what the database knows about configured sources that
// the operator should fix in feeds.yaml: sources that are gone, and sources
// that moved. They do not make the config invalid. A database that does not
// exist yet is not an error here; one that cannot be read is returned as
// the error, for a note.
func sourceWarnings(cfg *config.Config) ([]config.Problem, error) {
	db, err := openToCheck(cfg)
	if db == nil || err != nil {
		return nil, err
	}
	defer db.Close()
	var out []config.Problem
	for _, src := range cfg.Sources {
		st, err := db.State(src.ID)
		if errors.Is(err, newsdesk.ErrNotFound) || err == nil && st.URL != src.URL {
			continue
		}
		if err != nil {
			out = append(out, cfg.SourceProblem(src.ID, "note: %v", err))
			continue
		}
		if st.Gone {
			out = append(out, cfg.SourceProblem(src.ID, "warning: source %q is gone: its url answered 410 Gone on %s; remove the source or change its url", src.ID, st.LastFetch.Format("2006-01-02")))
		}
		if st.MovedTo != "" {
			out = append(out, cfg.SourceProblem(src.ID, "warning: source %q moved permanently to %s: change its url to that", src.ID, newsdesk.RedactURL(st.MovedTo)))
		}
	}
	return out, nil
}

// openToCheck opens the config's store for check's warnings: the bbolt
// file read-only (nil when there is none yet), or the PostgreSQL
// database, directly (no control socket, no lock).
func openToCheck(cfg *config.Config) (store.Store, error) {
	if cfg.Postgres != "" {
		return openPostgres(cfg)
	}
	if _, err := os.Stat(cfg.DBPath); err != nil {
		return nil, nil
	}
	db, err := bolt.Open(cfg.DBPath, bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return db, nil
}
