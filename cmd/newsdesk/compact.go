package main

import (
	"context"
	"fmt"

	"github.com/newsdesk/newsdesk/store/bolt"
)

func cmdCompact(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("compact")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig(*config)
	if err != nil {
		return err
	}
	if cfg.Postgres != "" {
		return compactPostgres(cfg)
	}
	if e.daemon != nil {
		return fmt.Errorf("refusing while newsdesk serve holds %s: stop it first (compaction needs the file to itself)", cfg.DBPath)
	}
	before, after, err := bolt.Compact(cfg.DBPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "compacted %s: %s -> %s\n", cfg.DBPath, mib(before), mib(after))
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
