// Package atomicfile writes a file under a temporary name beside its path
// and renames it there once complete and synced, so that the path holds
// either the old file or the whole new one, also after a crash. backup
// writes its copy so, and import rewrites feeds.yaml so.
package atomicfile

import (
	"os"
	"path/filepath"
)

// File is a file being written atomically to its path. Commit or Discard
// ends it.
type File struct {
	f    *os.File
	path string
	n    int64
}

// Create starts a file for path: a temporary file ".NAME.tmp-*" in the
// same folder (a rename within one file system is atomic).
func Create(path string) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{f: f, path: path}, nil
}

func (a *File) Write(p []byte) (int, error) {
	n, err := a.f.Write(p)
	a.n += int64(n)
	return n, err
}

// Written is the number of bytes written so far.
func (a *File) Written() int64 { return a.n }

// Chmod sets the mode the file will have at its path (the temporary file
// starts as 0600).
func (a *File) Chmod(mode os.FileMode) error { return a.f.Chmod(mode) }

// Commit syncs the file and renames it to its path, then syncs the folder
// (the rename itself). On an error the temporary file is removed.
func (a *File) Commit() error { return a.CommitIf(nil) }

// CommitIf is Commit, but first, once the file is synced, asks ok whether
// to go on (import checks that nobody saved feeds.yaml meanwhile); when ok
// returns an error, the path is left alone and CommitIf returns that error.
func (a *File) CommitIf(ok func() error) error {
	err := a.f.Sync()
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && ok != nil {
		err = ok()
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(a.path)); err == nil { // the rename itself
		d.Sync()
		d.Close()
	}
	return nil
}

// Discard removes the temporary file; the path is left alone.
func (a *File) Discard() {
	a.f.Close()
	os.Remove(a.f.Name())
}
