package main

import (
	"testing"

	"github.com/newsdesk/newsdesk/config"
)

// TestShellDSN: the database's address in a command a message suggests
// never shows a password, and is quoted for a shell.
func TestShellDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, from, want string }{
		{"postgres://newsdesk:s3cret@db.internal/newsdesk", "storage.postgres", "postgres://newsdesk:xxxxx@db.internal/newsdesk"},
		{"postgres://db.internal/newsdesk?user=n&password=s3cret", "storage.postgres", "'postgres://db.internal/newsdesk?password=xxxxx&user=n'"},
		{"host=/run/pg dbname=news password='s3 cret' user=n", "storage.postgres", "'host=/run/pg dbname=news password=xxxxx user=n'"},
		{"host=/run/pg password=s3cret", "storage.postgres", "'host=/run/pg password=xxxxx'"},
		{"postgres://newsdesk:s3cret@db.internal/newsdesk", config.DatabaseURLEnv, `"$NEWSDESK_DATABASE_URL"`},
	} {
		if got := shellDSN(&config.Config{Postgres: tc.dsn, PostgresFrom: tc.from}); got != tc.want {
			t.Errorf("shellDSN(%q from %s) = %s, want %s", tc.dsn, tc.from, got, tc.want)
		}
	}
}
