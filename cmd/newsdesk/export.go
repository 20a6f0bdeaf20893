package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/newsdesk/newsdesk/publisher"
)

func cmdExport(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("export")
	out := fs.String("out", "", "write the files into `DIR` (created if missing)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"-out DIR is required: the folder to write the files into"}
	}
	if e.dir != "" && !filepath.IsAbs(*out) {
		*out = filepath.Join(e.dir, *out) // run inside serve for a client elsewhere
	}
	cfg, db, err := e.open(*config)
	if err != nil {
		return err
	}
	defer db.Close()
	site, err := publisher.Render(db, renderConfig(cfg, db))
	if err != nil {
		return err
	}
	if err := site.WriteDir(*out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (each with a .gz) to %s\n", plural(len(site.Paths()), "file"), *out)
	if sk := site.Skipped(); len(sk) > 0 {
		fmt.Fprintf(e.stdout, "left out private sections %s: a static web server cannot check their tokens\n", strings.Join(sk, ", "))
	}
	return nil
}
