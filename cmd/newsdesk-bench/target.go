package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
)

// Engine names, as the table shows them.
const (
	engineBolt     = "bbolt"
	enginePostgres = "PostgreSQL"
)

// A target is an empty store a case runs newsdesk on: a new bbolt file,
// or a new schema in the PostgreSQL database -postgres names.
type target struct {
	engine  string
	storage string // feeds.yaml's storage lines
	open    func() (store.Store, error)
	size    func() (int64, error) // bytes the store takes on disk
	drop    func() error
}

// newTarget makes an empty store of the engine for the case name, in dir
// (bbolt) or in a new schema of the database at pgURL (PostgreSQL).
func newTarget(ctx context.Context, engine, dir, name, pgURL string) (*target, error) {
	if engine == enginePostgres {
		return pgTarget(ctx, pgURL)
	}
	path := filepath.Join(dir, name+".db")
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return &target{
		engine:  engineBolt,
		storage: "  path: " + name + ".db\n",
		open:    func() (store.Store, error) { return bolt.Open(path, bolt.Options{ReadOnly: true}) },
		size: func() (int64, error) {
			fi, err := os.Stat(path)
			if err != nil {
				return 0, err
			}
			return fi.Size(), nil
		},
		drop: func() error { return os.Remove(path) },
	}, nil
}

// pgTarget is a new schema in the database at base, dropped by drop.
func pgTarget(ctx context.Context, base string) (*target, error) {
	dsn, drop, err := pgtest.NewSchema(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("-postgres %s: create a schema for the benchmark: %w (the URL must name a database the benchmark may create schemas in)", newsdesk.RedactDSN(base), err)
	}
	return &target{
		engine:  enginePostgres,
		storage: "  postgres: " + strconv.Quote(dsn) + "\n",
		open: func() (store.Store, error) {
			db, err := postgres.Open(ctx, dsn)
			if err != nil {
				return nil, err
			}
			return db, nil
		},
		size: func() (int64, error) { return pgtest.SchemaBytes(ctx, dsn) },
		drop: drop,
	}, nil
}

// config is what a case's feeds.yaml says beyond its store and sources.
type config struct {
	defaults string // the defaults block's lines
}

// writeConfig writes the feeds.yaml of a case in dir: its store, one
// source per origin URL (all tagged bench) and one section, "all", of
// every source. It returns the file's path.
func writeConfig(dir, name string, t *target, urls []string, c config) (string, error) {
	var b strings.Builder
	b.WriteString("storage:\n" + t.storage)
	if c.defaults != "" {
		b.WriteString("defaults:\n" + c.defaults)
	}
	b.WriteString("\nsections:\n  - id: all\n    title: Every source\n    tags: [bench]\n\nsources:\n")
	for i, u := range urls {
		fmt.Fprintf(&b, "  - id: %s\n    url: %s\n    tags: [bench]\n", sourceID(i), u)
	}
	path := filepath.Join(dir, name+".yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// storeCheck is what a store holds after a pass.
type storeCheck struct {
	items   int                     // items stored, all sources
	short   []string                // sources with fewer items than their feed
	results map[newsdesk.Result]int // sources by the result of their last fetch
	bytes   int64                   // on disk
}

// checkStore opens the store read-only and counts, for each of the n
// sources, its stored items and the result of its last fetch.
func checkStore(t *target, n, perFeed int) (storeCheck, error) {
	c := storeCheck{results: map[newsdesk.Result]int{}}
	db, err := t.open()
	if err != nil {
		return c, err
	}
	defer db.Close()
	for i := range n {
		id := sourceID(i)
		count, err := db.CountItems(id)
		if err != nil {
			return c, err
		}
		c.items += count
		if count < perFeed {
			c.short = append(c.short, fmt.Sprintf("%s (%d)", id, count))
		}
		st, err := db.State(id)
		if err != nil {
			return c, err
		}
		c.results[st.Result]++
	}
	c.bytes, err = t.size()
	return c, err
}
