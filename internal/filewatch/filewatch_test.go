package filewatch

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRun: a save of the file, a save by renaming a new file over it, and
// SIGHUP are each reported once things settle.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(path, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	triggers := make(chan string)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, func(trigger string) { triggers <- trigger }, func(err error) { t.Errorf("watch error: %v", err) })
	}()
	defer func() { cancel(); <-done }()

	if err := os.WriteFile(path, []byte("a: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := <-triggers; got != "file" {
		t.Errorf("after a write: trigger %q, want file", got)
	}
	tmp := filepath.Join(dir, ".feeds.yaml.new")
	if err := os.WriteFile(tmp, []byte("a: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if got := <-triggers; got != "file" {
		t.Errorf("after a rename-save: trigger %q, want file", got)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if got := <-triggers; got != "sighup" {
		t.Errorf("after SIGHUP: trigger %q, want sighup", got)
	}
}
