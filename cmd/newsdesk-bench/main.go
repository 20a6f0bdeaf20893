// Command newsdesk-bench measures newsdesk's ingest against the floor of
// what any feed reader must do (issue 12), in one run on one machine.
//
// It generates N sources of realistic news items (RSS, some Atom, some
// windows-1251, some with HTML content) from a fixed seed, serves them from
// a local origin on one loopback address per source, measures the floor
// (gofeed parsing the files 8 at a time in one process, then parsing plus
// sanitizing each item's HTML), then runs the real `newsdesk run -force`
// into an empty bbolt file twice: the first pass, and an unchanged pass in
// which every source answers 304 (and the same on PostgreSQL with
// -postgres); then `newsdesk serve` ingesting every source into an empty
// store while 200 readers fetch a section; then the first pass over ten
// times the sources; with -steady, serve for that long against feeds that
// gain an item every minute. It follows each newsdesk's anonymous memory,
// and prints one markdown table.
//
//	go run ./cmd/newsdesk-bench [-sources 1000] [-items 50] [-large 10000] [-readers 200] [-steady 10m] [-postgres URL] [-short]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

// options are the command line.
type options struct {
	sources, items int
	seed           uint64
	newsdesk       string // a built binary; empty: build one
	keep           string // a folder for the fixtures' databases and configs; empty: a temporary one
	large          int    // sources of the large case; 0: not run
	readers        int    // concurrent readers while serve ingests; 0: not run
	steady         time.Duration
	postgres       string // a PostgreSQL database to measure too; empty: bbolt only
	postgresLarge  bool   // the large case on PostgreSQL too
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
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	rep, err := bench(ctx, o, stderr)
	if err != nil {
		return err
	}
	rep.write(stdout)
	return nil
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("newsdesk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.sources, "sources", 1000, "how many sources, each on its own loopback address")
	fs.IntVar(&o.items, "items", 50, "items in each source's feed")
	fs.Uint64Var(&o.seed, "seed", 12, "seed of the generated fixtures")
	short := fs.Bool("short", false, "tiny sizes (20 sources x 10 items, 40 for -large, 8 readers, -steady 2s), to check the harness works")
	fs.StringVar(&o.newsdesk, "newsdesk", "", "the newsdesk binary to measure (default: build cmd/newsdesk from this repository)")
	fs.StringVar(&o.keep, "dir", "", "keep the configs and bbolt files in this `folder` (default: a temporary one, removed)")
	fs.IntVar(&o.large, "large", 10000, "sources of the large case, a first pass compared with the -sources one (10 x -sources unless given; 0: not run)")
	fs.IntVar(&o.readers, "readers", 200, "concurrent readers of a section while serve ingests every source (0: not run)")
	fs.DurationVar(&o.steady, "steady", 0, "run serve this long (e.g. 10m) against feeds that gain an item every minute, and report its memory and goroutines (0: not run)")
	fs.StringVar(&o.postgres, "postgres", "", "also measure the PostgreSQL engine, in a new schema (dropped after) of the database at this `URL`, e.g. \"$NEWSDESK_TEST_DATABASE_URL\"")
	fs.BoolVar(&o.postgresLarge, "postgres-large", false, "run the large case on PostgreSQL too")
	if err := fs.Parse(args); err != nil {
		return o, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Sprintf("unexpected argument %q: all options are flags (see -h)", fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *short {
		o.sources, o.items = 20, 10
		if !set["large"] {
			o.large = 40
		}
		if !set["readers"] {
			o.readers = 8
		}
		if !set["steady"] {
			o.steady = 2 * time.Second
		}
	}
	if !set["large"] && !*short {
		o.large = 10 * o.sources
	}
	const most = 250 * 250 * 100 // loopback addresses hostAddr gives
	switch {
	case o.sources < 1 || o.sources > most || o.items < 1:
		return o, usageError{"-sources must be 1 to 6250000 and -items at least 1"}
	case o.large < 0 || o.large > most:
		return o, usageError{"-large must be 0 to 6250000"}
	case o.readers < 0 || o.steady < 0:
		return o, usageError{"-readers and -steady must not be negative"}
	case o.postgresLarge && o.postgres == "":
		return o, usageError{"-postgres-large needs -postgres URL"}
	}
	return o, nil
}
