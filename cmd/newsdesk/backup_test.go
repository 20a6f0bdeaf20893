package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// engineOnly is a store with only the methods of store.Store: an engine
// that cannot copy itself or be snapshotted as a file.
type engineOnly struct{ store.Store }

// TestBackupAndVerifyNeedTheEngine: backup and verify of a held store use
// what the engine offers (store.Backuper, a file snapshot), and of an
// engine without it say so, naming the store, instead of failing opaquely.
func TestBackupAndVerifyNeedTheEngine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	if err := backupTo(db.Borrow(), &buf); err != nil || buf.Len() == 0 {
		t.Errorf("backupTo(a borrowed bbolt store) = %v, %d bytes; want a copy", err, buf.Len())
	}
	err = backupTo(engineOnly{db}, &buf)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "its engine's own tools") {
		t.Errorf("backupTo(an engine without Backup) = %v, want a refusal naming %s and the way out", err, path)
	}
	if _, err := verifyHeld(context.Background(), engineOnly{db}, "serve"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("verifyHeld(an engine without snapshots) = %v, want a refusal naming %s", err, path)
	}
}
