package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/newsdesk/newsdesk/internal/atomicfile"
	"github.com/newsdesk/newsdesk/store"
)

// cmdBackup writes a consistent copy of the database to FILE. While serve
// (or a run) holds the database, the holder reads the copy through its
// control socket and streams it here, and this process writes FILE: the
// holder may be a service that cannot write where the operator reads, and
// FILE is relative to the operator's folder.
func cmdBackup(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("backup")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want FILE, the file to write the copy to (see 'newsdesk backup -h')"}
	}
	cfg, err := e.loadConfig(*config)
	if err != nil {
		return err
	}
	if e.daemon != nil { // for a client of the control socket: it writes FILE
		if e.stream == nil {
			return errors.New("backup: this client cannot receive the copy: use the same newsdesk version as the one holding the database")
		}
		db, err := e.openStore(cfg, 0)
		if err != nil {
			return err
		}
		defer db.Close()
		return backupTo(db, e.stream)
	}
	file := pos[0]
	if cfg.Postgres != "" {
		return backupPostgres(cfg, file)
	}
	if err := notLiveDatabase(file, cfg.DBPath); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.DBPath); err != nil {
		return fmt.Errorf("backup: %w (is storage.path in %s right?)", err, cfg.Path)
	}
	out, err := atomicfile.Create(file)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	done := func() error {
		if err := out.Commit(); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		fmt.Fprintf(e.stdout, "backed up %s to %s (%s)\n", cfg.DBPath, file, mib(out.Written()))
		return nil
	}
	db, err := e.openStore(cfg, 0)
	var fwd errForward
	if errors.As(err, &fwd) {
		fwd.stream = out
		fwd.finish = func(code int) int {
			if code != exitOK {
				out.Discard()
				return code
			}
			if err := done(); err != nil {
				fmt.Fprintf(e.stderr, "newsdesk backup: %v\n", err)
				return exitError
			}
			return exitOK
		}
		return fwd
	}
	if err != nil {
		out.Discard()
		return err
	}
	defer db.Close()
	if err := backupTo(db, out); err != nil {
		out.Discard()
		return err
	}
	return done()
}

// backupTo writes a consistent copy of db to w: an engine that copies
// itself (store.Backuper) does; of another, the engine's own tools do.
func backupTo(db store.Store, w io.Writer) error {
	b, ok := db.(store.Backuper)
	if !ok {
		return fmt.Errorf("backup: the store %s cannot copy itself: back it up with its engine's own tools", db.Path())
	}
	_, err := b.Backup(w)
	return err
}

// notLiveDatabase refuses a backup FILE that is the database itself.
func notLiveDatabase(file, dbPath string) error {
	a, errA := filepath.Abs(file)
	b, errB := filepath.Abs(dbPath)
	same := errA == nil && errB == nil && a == b
	if fa, err := os.Stat(file); err == nil {
		if fb, err := os.Stat(dbPath); err == nil && os.SameFile(fa, fb) {
			same = true
		}
	}
	if same {
		return usageError{fmt.Sprintf("%s is the database itself: give the copy another file name", file)}
	}
	return nil
}
