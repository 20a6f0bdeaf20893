// Package filewatch tells when a file an operator edits has changed: it
// watches the file's folder, not the file, so that editors that save by
// renaming a new file over the old one are seen too; it waits for the
// writes of one save to settle before it reports; and it also reports
// SIGHUP, the signal operators send to ask for a reload. It is the only
// package that imports fsnotify.
package filewatch

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Settle is how long a file must be left alone after a change before the
// change is reported: editors write a file in several steps.
const Settle = 100 * time.Millisecond

// Watcher watches one file and SIGHUP.
type Watcher struct {
	files *fsnotify.Watcher
	hup   chan os.Signal
	path  string // absolute
}

// New starts watching path's folder and SIGHUP at once, so that no change
// after New returns is missed.
func New(path string) (*Watcher, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch %s: %w", filepath.Dir(abs), err)
	}
	fw := &Watcher{files: w, hup: make(chan os.Signal, 1), path: abs}
	signal.Notify(fw.hup, syscall.SIGHUP)
	return fw, nil
}

// Run calls changed with "file" once the file has changed and settled, and
// with "sighup" on SIGHUP, until ctx is done; it reports the watcher's own
// errors to failed. It stops watching when it returns.
func (w *Watcher) Run(ctx context.Context, changed func(trigger string), failed func(error)) {
	defer signal.Stop(w.hup)
	defer w.files.Close()
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.hup:
			changed("sighup")
		case ev, ok := <-w.files.Events:
			if !ok {
				return
			}
			if filepath.Clean(ev.Name) == w.path && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) != 0 {
				settle.Reset(Settle)
			}
		case err, ok := <-w.files.Errors:
			if !ok {
				return
			}
			failed(err)
		case <-settle.C:
			changed("file")
		}
	}
}
