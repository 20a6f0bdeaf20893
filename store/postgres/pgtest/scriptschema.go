package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// NewSchema creates an empty schema on the cluster at base (a test
// cluster's address) for tests that have no testing.TB at hand, such as a
// testscript command, and returns base with search_path set to it, and a
// function that drops it.
func NewSchema(ctx context.Context, base string) (dsn string, drop func() error, err error) {
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to the test database: %w", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "s_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", nil, err
	}
	drop = func() error {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		_, err = c.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
		return err
	}
	if !strings.Contains(base, "://") {
		return base + " search_path=" + name, drop, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
