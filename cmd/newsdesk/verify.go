package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// verifyChildFlag makes `newsdesk verify` the child that runs the check
// (bolt.Verify) and prints its report as JSON. bbolt's consistency check
// reads the file in a goroutine of its own, where a memory fault on a
// damaged page cannot be recovered: in a child, the crash is reported as
// damage instead of ending the command, or serve.
const verifyChildFlag = "-internal-verify-child"

func cmdVerify(ctx context.Context, e *env, args []string) error {
	if len(args) == 2 && args[0] == verifyChildFlag {
		report, err := bolt.Verify(args[1])
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(report)
	}
	fs, configPath := e.flags("verify")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	var path string
	switch len(pos) {
	case 0:
		cfg, err := e.loadConfig(*configPath)
		if err != nil {
			return err
		}
		if cfg.Postgres != "" {
			return e.verifyPostgres(ctx, cfg)
		}
		path = cfg.DBPath
	case 1:
		path = pos[0]
		if e.dir != "" && !filepath.IsAbs(path) {
			path = filepath.Join(e.dir, path) // run inside serve for a client elsewhere
		}
	default:
		return usageError{fmt.Sprintf("unexpected argument %q: give at most one FILE (see 'newsdesk verify -h')", pos[1])}
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database to verify: %w", err)
	}
	var report *store.Report
	if e.daemon != nil && path == e.daemon.db.Path() {
		report, err = verifyHeld(ctx, e.daemon.db, e.daemon.holder())
	} else {
		report, err = verifyInChild(ctx, path)
		if errors.As(err, new(busyError)) && e.daemon == nil && daemonTakes(config.SocketPath(path), "verify") {
			return errForward{socket: config.SocketPath(path)}
		}
	}
	if err != nil {
		return err
	}
	if len(report.Faults) > 0 {
		return writeFaults(e.stderr, report, "is damaged",
			fmt.Sprintf("stop newsdesk and restore a backup (made with `newsdesk backup FILE`) over %s; `newsdesk verify BACKUP` checks the backup first", report.Path))
	}
	fmt.Fprintf(e.stdout, "ok: %s: %s, %d pages of %d bytes, transaction %d, schema %d: %s, %s, %s, %s; bbolt's consistency check and newsdesk's indexes found nothing wrong\n",
		report.Path, mib(report.Size), report.Pages, report.PageSize, report.Txid, report.Schema,
		plural(report.Sources, "source"), plural(report.Items, "item"), plural(report.Tombstones, "tombstone"), plural(report.Decisions, "editorial decision"))
	for _, n := range report.Notes {
		fmt.Fprintf(e.stdout, "note: %s\n", n)
	}
	return nil
}

// verifyHeld verifies the database serve holds: its meta pages in place,
// the rest in a consistent copy beside it, checked by a child process.
func verifyHeld(ctx context.Context, db store.Store, holder string) (*store.Report, error) {
	held, ok := db.(interface{ Snapshot() (string, error) })
	if !ok {
		return nil, fmt.Errorf("verify: the store %s is not a file this command can check", db.Path())
	}
	fault, notes, err := bolt.CheckFile(db.Path())
	if err != nil {
		return nil, err
	}
	if fault != "" {
		return &store.Report{Path: db.Path(), Faults: []string{fault}}, nil
	}
	snapshot, err := held.Snapshot()
	if err != nil {
		return nil, err
	}
	defer os.Remove(snapshot)
	report, err := verifyInChild(ctx, snapshot)
	var damaged *bolt.DamagedError
	if errors.As(err, &damaged) {
		damaged.Path = db.Path()
	}
	if err != nil {
		return nil, err
	}
	report.Path = db.Path()
	report.Notes = append(append(notes, "checked a copy of the file made through newsdesk "+holder+", which holds it"), report.Notes...)
	return report, nil
}

// verifyInChild runs bolt.Verify on path in a child process (this binary
// with verifyChildFlag) and returns its report. A child that crashes was
// reading a damaged file: that is a DamagedError.
func verifyInChild(ctx context.Context, path string) (*store.Report, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "verify", verifyChildFlag, path)
	cmd.Args[0] = os.Args[0] // the name this binary answers to (tests run it under another)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("verify: interrupted")
	}
	msg := strings.TrimPrefix(strings.TrimSpace(stderr.String()), "newsdesk verify: ")
	var exit *exec.ExitError
	switch {
	case err == nil:
		var report store.Report
		if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
			return nil, fmt.Errorf("verify: the checking process answered %.200q: %w", stdout.String(), err)
		}
		return &report, nil
	case !errors.As(err, &exit):
		return nil, fmt.Errorf("verify: %w", err)
	case exit.ExitCode() == exitTempFail:
		return nil, busyError{errors.New(msg)}
	case exit.ExitCode() == exitError:
		return nil, errors.New(msg)
	}
	// Killed by a signal, or a Go runtime crash (exit 2): a fault bbolt's
	// check could not survive.
	return nil, &bolt.DamagedError{Path: path, Fault: "bbolt's consistency check crashed reading it (" + crashLine(stderr.String(), exit) + ")"}
}

// crashLine picks the line of a crashed process's output that says why.
func crashLine(stderr string, exit *exec.ExitError) string {
	for _, l := range strings.Split(stderr, "\n") {
		for _, p := range []string{"unexpected fault address", "fatal error:", "panic:", "runtime:"} {
			if strings.HasPrefix(l, p) {
				return strings.TrimSpace(l)
			}
		}
	}
	return exit.String()
}

// writeFaults lists the faults of a report, under "newsdesk verify: PATH
// WHAT:", and how to fix them, and returns errReported.
func writeFaults(w io.Writer, r *store.Report, what, fix string) error {
	fmt.Fprintf(w, "newsdesk verify: %s %s:\n", r.Path, what)
	for _, f := range r.Faults {
		fmt.Fprintf(w, "  %s\n", f)
	}
	if r.More > 0 {
		fmt.Fprintf(w, "  and %d more\n", r.More)
	}
	fmt.Fprintf(w, "fix: %s\n", fix)
	return errReported
}
