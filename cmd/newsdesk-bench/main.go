// Command newsdesk-bench measures newsdesk's ingest against the floor of
// what any feed reader must do (issue 12), in one run on one machine.
//
// It generates N sources of realistic news items (RSS, some Atom, some
// windows-1251, some with HTML content) from a fixed seed, serves them from
// a local origin on one loopback address per source, measures the floor
// (gofeed parsing the files 8 at a time in one process, then parsing plus
// sanitizing each item's HTML), then runs the real `newsdesk run -force`
// into an empty bbolt file twice: the first pass, and an unchanged pass in
// which every source answers 304. It prints one markdown table.
//
//	go run ./cmd/newsdesk-bench [-sources 1000] [-items 50] [-short]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// options are the command line.
type options struct {
	sources, items int
	seed           uint64
	newsdesk       string // a built binary; empty: build one
	keep           string // a folder for the fixtures' database and config; empty: a temporary one
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "newsdesk-bench: %v\n", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("newsdesk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.sources, "sources", 1000, "how many sources, each on its own loopback address")
	fs.IntVar(&o.items, "items", 50, "items in each source's feed")
	fs.Uint64Var(&o.seed, "seed", 12, "seed of the generated fixtures")
	short := fs.Bool("short", false, "tiny sizes (20 sources x 10 items), to check the harness works")
	fs.StringVar(&o.newsdesk, "newsdesk", "", "the newsdesk binary to measure (default: build cmd/newsdesk from this repository)")
	fs.StringVar(&o.keep, "dir", "", "keep the config and bbolt file in this `folder` (default: a temporary one, removed)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q: all options are flags (see -h)", fs.Arg(0))}
	}
	if *short {
		o.sources, o.items = 20, 10
	}
	if o.sources < 1 || o.sources > 250*250*100 || o.items < 1 {
		return usageError{"-sources must be 1 to 6250000 and -items at least 1"}
	}
	rep, err := bench(ctx, o, stderr)
	if err != nil {
		return err
	}
	rep.write(stdout)
	return nil
}
