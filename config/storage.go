package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// The storage engine is chosen here and nowhere else: storage.postgres in
// feeds.yaml, else the environment's NEWSDESK_DATABASE_URL, selects the
// PostgreSQL engine (Config.Postgres); otherwise storage.path's bbolt file
// is the store, as it always was.

// DatabaseURLEnv is the environment variable that selects the PostgreSQL
// engine when feeds.yaml gives no storage.postgres.
const DatabaseURLEnv = "NEWSDESK_DATABASE_URL"

// LeaseMargin is how much longer than the longest fetch timeout a lease on
// a source must last: time to store what the fetch brought.
const LeaseMargin = 5 * time.Second

// defaultLease is storage.lease when feeds.yaml gives none (and the
// longest timeout needs no more).
const defaultLease = 5 * time.Minute

// postgresURL checks storage.postgres: a postgres:// or postgresql:// URL
// (or a key=value connection string, which pgx also takes).
func (p *parser) postgresURL(v *yaml.Node, cfg *Config, at **yaml.Node) {
	s := strings.TrimSpace(p.str(v))
	*at = v
	if s == "" {
		p.at(v, "storage.postgres is empty: give the database's URL, e.g. postgres://newsdesk@db.internal/newsdesk, or remove the key to use storage.path's file")
		return
	}
	if err := checkPostgresURL(s); err != nil {
		p.at(v, "storage.postgres: %v", err)
		return
	}
	cfg.Postgres, cfg.PostgresFrom = s, "storage.postgres"
}

// checkPostgresURL accepts what pgx can connect with: a postgres:// or
// postgresql:// URL, or a key=value string such as "host=/run/pg dbname=x".
func checkPostgresURL(s string) error {
	if !strings.Contains(s, "://") {
		if !strings.Contains(s, "=") {
			return fmt.Errorf("%q is neither a postgres:// URL nor a key=value connection string", newsdesk.RedactDSN(s))
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %v", errors.Unwrap(err)) // without the URL: it would show the password
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("%q: the scheme must be postgres:// or postgresql://", u.Scheme+"://")
	}
	return nil
}

// lease reads storage.lease.
func (p *parser) lease(v *yaml.Node, cfg *Config, at **yaml.Node) {
	if d, ok := p.duration(v); ok {
		*at = v
		if d <= 0 {
			p.at(v, "storage.lease %s: must be more than 0", d)
			return
		}
		cfg.Lease = d
	}
}

// settleStorage applies the lease's default and checks the lease against
// the longest fetch timeout. It runs once the sources are read.
func (p *parser) settleStorage(cfg *Config, leaseAt *yaml.Node) {
	longest := time.Duration(0)
	for _, src := range cfg.Sources {
		longest = max(longest, src.Timeout)
	}
	if cfg.Lease == 0 {
		cfg.Lease = max(defaultLease, 2*longest+LeaseMargin)
		return
	}
	if cfg.Lease < longest+LeaseMargin {
		p.at(leaseAt, "storage.lease %s is shorter than the longest fetch timeout (%s) plus %s to store what it brought: make it at least %s, so that no fetch outlives its lease", cfg.Lease, longest, LeaseMargin, longest+LeaseMargin)
	}
}

// fromEnvironment selects the PostgreSQL engine when feeds.yaml names none
// and the environment does (Load only: Parse reads no environment). A bad
// URL there is the engine's error when the store is opened.
func fromEnvironment(cfg *Config) {
	if cfg.Postgres != "" {
		return
	}
	if s := strings.TrimSpace(os.Getenv(DatabaseURLEnv)); s != "" {
		cfg.Postgres, cfg.PostgresFrom = s, DatabaseURLEnv
	}
}

// hashConfig is the configuration's fingerprint for status: the first 12
// hex digits of the file's SHA-256.
func hashConfig(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:12]
}
