package newsdesk

import (
	"net/url"
	"regexp"
	"strings"
)

// passwordKV is a password in a key=value connection string.
var passwordKV = regexp.MustCompile(`password\s*=\s*('(\\.|[^'])*'|\S+)`)

// RedactDSN is a database address (a postgres:// URL or a key=value
// connection string) as messages, logs and status may show it: with any
// password replaced by xxxxx. An address that does not parse as a URL is
// not shown at all.
func RedactDSN(dsn string) string {
	if !strings.Contains(dsn, "://") {
		return passwordKV.ReplaceAllString(dsn, "password=xxxxx")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "the PostgreSQL database"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
