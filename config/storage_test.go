package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const storageSources = `
sources:
  - {id: a, url: "http://example.com/a.xml", timeout: 40s}
sections:
  - {id: s, title: S, sources: [a]}
`

// TestStorageEngine: storage.postgres selects PostgreSQL, with its
// mistakes placed at their line; the lease defaults from the longest
// timeout and is refused when shorter than it.
func TestStorageEngine(t *testing.T) {
	for _, tt := range []struct {
		name, storage string
		want          string // a problem's text; "" for none
		postgres      string
		lease         time.Duration
	}{
		{"file by default", "", "", "", 5 * time.Minute},
		{"postgres URL", "storage: {postgres: 'postgres://newsdesk@db.internal/newsdesk'}", "", "postgres://newsdesk@db.internal/newsdesk", 5 * time.Minute},
		{"key=value string", "storage: {postgres: 'host=/run/postgresql dbname=newsdesk'}", "", "host=/run/postgresql dbname=newsdesk", 5 * time.Minute},
		{"wrong scheme", "storage: {postgres: 'mysql://u:secret@db/x'}", `feeds.yaml:1:21: storage.postgres: "mysql://": the scheme must be postgres:// or postgresql://`, "", 0},
		{"not a URL", "storage: {postgres: 'db.internal'}", `storage.postgres: "db.internal" is neither a postgres:// URL nor a key=value connection string`, "", 0},
		{"empty", "storage: {postgres: ''}", "storage.postgres is empty", "", 0},
		{"unparsable URL", "storage: {postgres: 'postgres://u:secret@db/%zz'}", `storage.postgres: not a URL: invalid URL escape "%zz"`, "", 0},
		{"both engines", "storage: {path: x.db, postgres: 'postgres:///x'}", "feeds.yaml:1:33: storage.postgres and storage.path are both given", "", 0},
		{"lease given", "storage: {lease: 2m}", "", "", 2 * time.Minute},
		{"lease too short", "storage: {lease: 30s}", "feeds.yaml:1:18: storage.lease 30s is shorter than the longest fetch timeout (40s) plus 5s to store what it brought: make it at least 45s", "", 0},
		{"lease zero", "storage: {lease: 0s}", "storage.lease 0s: must be more than 0", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("feeds.yaml", t.TempDir(), []byte(tt.storage+"\n"+storageSources))
			if tt.want != "" {
				var ps Problems
				if !errors.As(err, &ps) || !strings.Contains(ps.Error(), tt.want) {
					t.Fatalf("problems = %v, want one containing %q", err, tt.want)
				}
				if strings.Contains(ps.Error(), "secret") {
					t.Errorf("a problem shows the password: %v", ps)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Postgres != tt.postgres || cfg.Lease != tt.lease {
				t.Errorf("postgres %q lease %v, want %q %v", cfg.Postgres, cfg.Lease, tt.postgres, tt.lease)
			}
			if len(cfg.Hash) != 12 {
				t.Errorf("hash %q, want 12 hex digits", cfg.Hash)
			}
		})
	}
}

// TestDatabaseURLFromEnvironment: Load takes NEWSDESK_DATABASE_URL when
// feeds.yaml names no PostgreSQL database; storage.postgres wins over it.
func TestDatabaseURLFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feeds.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s+"\n"+storageSources), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(DatabaseURLEnv, "postgres:///from-env")
	write("storage: {path: x.db}")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Postgres != "postgres:///from-env" || cfg.PostgresFrom != DatabaseURLEnv {
		t.Errorf("postgres %q from %q, want the environment's", cfg.Postgres, cfg.PostgresFrom)
	}
	write("storage: {postgres: 'postgres:///from-file'}")
	if cfg, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if cfg.Postgres != "postgres:///from-file" || cfg.PostgresFrom != "storage.postgres" {
		t.Errorf("postgres %q from %q, want the file's", cfg.Postgres, cfg.PostgresFrom)
	}
	other := cfg.Hash
	write("storage: {postgres: 'postgres:///from-file'} # changed")
	if cfg, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if cfg.Hash == other {
		t.Errorf("two different files have the same hash %q", other)
	}
}
