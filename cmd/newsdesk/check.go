package main

import (
	"context"
	"fmt"
)

func cmdCheck(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("check")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig(*config)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: ok, %s, %s\n", *config, plural(len(cfg.Sources), "source"), plural(len(cfg.Sections), "section"))
	return nil
}
