package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// write starts a File for path, writes data and returns it.
func write(t *testing.T, path, data string) *File {
	t.Helper()
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	return f
}

// holds fails the test unless path holds want and its folder nothing else.
func holds(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Errorf("%s = %q, %v; want %q", path, got, err, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files; want only %s (a temporary file left behind)", len(entries), filepath.Base(path))
	}
}

func TestCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "copy.db")
	os.WriteFile(path, []byte("old"), 0o644)
	f := write(t, path, "new contents")
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("before Commit, %s = %q; want the old file", path, got)
	}
	if err := f.Chmod(0o640); err != nil {
		t.Fatal(err)
	}
	if f.Written() != int64(len("new contents")) {
		t.Errorf("Written() = %d; want %d", f.Written(), len("new contents"))
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	holds(t, path, "new contents")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after Commit = %v, %v; want 0640", fi.Mode().Perm(), err)
	}
}

func TestDiscard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "copy.db")
	os.WriteFile(path, []byte("old"), 0o644)
	write(t, path, "half a copy").Discard()
	holds(t, path, "old")
}

// TestCommitIfRefused: when ok says no, the path keeps the old file and
// the error is ok's.
func TestCommitIfRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	os.WriteFile(path, []byte("old"), 0o644)
	changed := errors.New("changed meanwhile")
	if err := write(t, path, "new").CommitIf(func() error { return changed }); err != changed {
		t.Errorf("CommitIf() = %v; want ok's error", err)
	}
	holds(t, path, "old")
}
