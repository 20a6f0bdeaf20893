package newsdesk

import (
	"strings"
	"testing"
)

// TestRedactDSN: no form of a database address shows its password.
func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://newsdesk:s3cret@db.internal/newsdesk", "postgres://newsdesk:xxxxx@db.internal/newsdesk"},
		{"postgres://db.internal/newsdesk?user=n&password=s3cret", "postgres://db.internal/newsdesk?password=xxxxx&user=n"},
		{"host=/run/pg dbname=news password='s3 cret' user=n", "host=/run/pg dbname=news password=xxxxx user=n"},
		{"host=/run/pg password = s3cret", "host=/run/pg password=xxxxx"},
		{"postgres://newsdesk@db.internal/newsdesk", "postgres://newsdesk@db.internal/newsdesk"},
		{"postgres://u:s3cret@db.internal/%zz", "the PostgreSQL database"},
	} {
		got := RedactDSN(tc.dsn)
		if got != tc.want || strings.Contains(got, "s3") {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}
