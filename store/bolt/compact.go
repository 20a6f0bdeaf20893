package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// Compact rewrites the database at path into a new file without the free
// pages bbolt keeps after deletes (the file never shrinks by itself), then
// renames it over the old one. It holds the database's lock throughout and
// refuses with store.ErrLocked while another process has it open. It returns the
// file sizes before and after.
func Compact(path string) (before, after int64, err error) {
	// The caller says "compact"; these errors say what about the file.
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, 0, fmt.Errorf("no database at %s: nothing to compact (check storage.path)", path)
		}
		return 0, 0, err
	}
	src, _, err := openBolt(path, Options{})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return 0, 0, fmt.Errorf("refusing while the file is in use: %w; stop `newsdesk serve` (or wait for `newsdesk run`) first", err)
		}
		return 0, 0, err
	}
	defer src.Close()
	removeStaleTemps(path) // under the lock: no other compact is running
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+tempCompact+"*")
	if err != nil {
		return 0, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpPath) // a no-op once renamed
	dst, err := bbolt.Open(tmpPath, 0o600, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	// A damaged page makes bbolt panic or fault while it walks the file.
	if err := guarded(path, func() error { return bbolt.Compact(dst, src, 64<<20) }); err != nil {
		dst.Close()
		return 0, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return 0, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	fiBefore, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	fiAfter, err := os.Stat(tmpPath)
	if err != nil {
		return 0, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return 0, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	return fiBefore.Size(), fiAfter.Size(), nil
}
