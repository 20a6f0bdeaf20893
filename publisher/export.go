package publisher

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// WriteDir writes every public file of the site under dir, creating dir and
// dir/sections, each beside its gzip encoding PATH.gz (the bytes Server sends,
// for web servers that serve precompressed files). Each file is written to a
// temporary file beside it and renamed into place, so a web server serving
// dir never sees half a feed. Private sections are not written (see
// Skipped), and their files from an export made while they were public are
// removed. Files of sections that no longer exist are left alone. Exports
// into dir take turns (a lock on dir); each first removes the temporary
// files of one that was killed.
func (s *Site) WriteDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "sections"), 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	defer unlock()
	removeStaleTemps(dir)
	removeStaleTemps(filepath.Join(dir, "sections"))
	for _, p := range s.Paths() {
		f := s.files[p]
		path := filepath.Join(dir, filepath.FromSlash(p))
		if err := writeFileAtomic(path, f.Body, f.LastModified); err != nil {
			return fmt.Errorf("write site: %w", err)
		}
		if err := writeFileAtomic(path+".gz", f.Gzip, f.LastModified); err != nil {
			return fmt.Errorf("write site: %w", err)
		}
	}
	for _, id := range s.Skipped() {
		for _, ext := range sectionExts {
			for _, suffix := range []string{"", ".gz"} {
				err := os.Remove(filepath.Join(dir, "sections", id+ext+suffix))
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("write site: private section %s: %w", id, err)
				}
			}
		}
	}
	return nil
}

func writeFileAtomic(path string, body []byte, modified time.Time) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(body); err != nil {
		return err
	}
	// CreateTemp makes the file readable by its owner only; a web server
	// running as another user must be able to read it.
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if !modified.IsZero() {
		// A static web server then sends the same Last-Modified as Server.
		if err = os.Chtimes(tmp.Name(), modified, modified); err != nil {
			return err
		}
	}
	return os.Rename(tmp.Name(), path)
}
