package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// env is a LookupEnv over a map: tests need not set the process's
// environment.
func env(vars map[string]string) LookupEnv {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// credentialsYAML wraps sources (list items, indented by two) in a valid
// file whose one section takes every source by the tag t.
func credentialsYAML(defaults, sources string) string {
	return "defaults:\n" + defaults + "\n  interval: 15m\nsources:\n" + sources + "sections:\n  - id: s\n    tags: [t]\n"
}

func TestCredentialsParsed(t *testing.T) {
	vars := env(map[string]string{"WIRE_PASSWORD": "pw-from-env", "WIRE_KEY": "key-from-env", "UA_URL": "https://news.example.org/"})
	cfg, err := ParseEnv("feeds.yaml", "/etc/newsdesk", []byte(credentialsYAML(`  user_agent: "newsdesk-bot (+${UA_URL})"`, `  - id: partner-wire
    url: https://wire.example.com/feeds/russia.xml
    tags: [t]
    auth: {username: newsdesk, password_env: WIRE_PASSWORD}
    headers: {x-api-key: "${WIRE_KEY}", Accept: application/rss+xml, X-Price: "$$5 ${WIRE_KEY}$$"}
    user_agent: "Mozilla/5.0 (compatible; newsdesk/1.0; +https://news.example.org/)"
  - id: plain
    url: https://plain.example/rss
    tags: [t]
`)), vars)
	if err != nil {
		t.Fatal(err)
	}
	wire, plain := cfg.Sources[0], cfg.Sources[1]
	if wire.Auth == nil || *wire.Auth != (newsdesk.BasicAuth{Username: "newsdesk", Password: "pw-from-env"}) {
		t.Errorf("Auth = %+v, want newsdesk with the password from WIRE_PASSWORD", wire.Auth)
	}
	want := []newsdesk.Header{{Name: "X-Api-Key", Value: "key-from-env"}, {Name: "Accept", Value: "application/rss+xml"}, {Name: "X-Price", Value: "$5 key-from-env$"}}
	if !slices.Equal(wire.Headers, want) {
		t.Errorf("Headers = %q, want %q (file order, canonical names, ${VAR} and $$ expanded)", wire.Headers, want)
	}
	if wire.UserAgent != "Mozilla/5.0 (compatible; newsdesk/1.0; +https://news.example.org/)" {
		t.Errorf("UserAgent = %q, want the source's own", wire.UserAgent)
	}
	if plain.Auth != nil || plain.Headers != nil || plain.UserAgent != "newsdesk-bot (+https://news.example.org/)" {
		t.Errorf("plain = auth %v, headers %q, user agent %q; want none, none and defaults.user_agent expanded", plain.Auth, plain.Headers, plain.UserAgent)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("Warnings = %v, want none", cfg.Warnings)
	}
}

// secrets are the values the problem tests put in the environment and
// the file: no message may show any of them.
var secrets = map[string]string{"WIRE_PASSWORD": "hunter2-env", "WIRE_KEY": "apikey-env-777", "EMPTY": "", "BROKEN": "line1\nline2-secret"}

func TestCredentialProblems(t *testing.T) {
	tests := []struct {
		name, defaults, sources string
		want                    []string // each a whole problem line
		warnings                []string
	}{
		{
			name: "missing and empty variables",
			sources: `  - id: wire
    url: https://wire.example/rss
    tags: [t]
    auth: {username: newsdesk, password_env: WIRE_PASSWORDD}
    headers:
      X-Api-Key: "k-${NO_SUCH_KEY}"
      X-Other: "${EMPTY}"
    user_agent: "bot ${NO_UA}"
`,
			want: []string{
				`feeds.yaml:8:46: source "wire": auth.password_env: environment variable WIRE_PASSWORDD is not set: set WIRE_PASSWORDD in the environment of newsdesk (for systemd: EnvironmentFile=, see deploy/newsdesk.service); the source is not fetched without it`,
				`feeds.yaml:10:18: source "wire": headers.X-Api-Key: environment variable NO_SUCH_KEY is not set: set NO_SUCH_KEY in the environment of newsdesk (for systemd: EnvironmentFile=, see deploy/newsdesk.service); the source is not fetched without it`,
				`feeds.yaml:11:16: source "wire": headers.X-Other: environment variable EMPTY is empty: set it to the secret in the environment of newsdesk (for systemd: EnvironmentFile=, see deploy/newsdesk.service); the source is not fetched without it`,
				`feeds.yaml:12:17: source "wire": user_agent: environment variable NO_UA is not set: set NO_UA in the environment of newsdesk (for systemd: EnvironmentFile=, see deploy/newsdesk.service); the source is not fetched without it`,
			},
		},
		{
			name: "auth shapes",
			sources: `  - id: a
    url: https://a.example/rss
    tags: [t]
    auth: {password_env: WIRE_PASSWORD}
  - id: b
    url: https://b.example/rss
    tags: [t]
    auth: {username: newsdesk, password: hunter2-inline, password_env: WIRE_PASSWORD}
  - id: c
    url: https://c.example/rss
    tags: [t]
    auth: {username: "a:b", password_env: "${WIRE_PASSWORD}"}
  - id: d
    url: https://d.example/rss
    tags: [t]
    auth: {username: newsdesk}
  - id: e
    url: https://e.example/rss
    tags: [t]
    auth: {username: newsdesk, password_env: BROKEN, passwd: x}
`,
			want: []string{
				`feeds.yaml:8:11: source "a": auth has no username: add username: (HTTP Basic needs one)`,
				`feeds.yaml:12:72: source "b": auth: set password or password_env, not both (password_env keeps the secret out of feeds.yaml)`,
				`feeds.yaml:16:22: source "c": auth.username "a:b" has a colon, which HTTP Basic cannot carry in a username`,
				`feeds.yaml:16:43: source "c": auth.password_env ${WIRE_PASSWORD}: give the variable's name alone, e.g. password_env: WIRE_PASSWORD`,
				`feeds.yaml:20:11: source "d": auth has no password: add password_env: VARIABLE and set VARIABLE in the environment of newsdesk (for systemd: EnvironmentFile=, see deploy/newsdesk.service)`,
				`feeds.yaml:24:46: source "e": auth.password_env: the value of BROKEN has a control character (a line break?): remove it`,
				`feeds.yaml:24:54: source "e": auth: unknown key "passwd" (did you mean "password"?) (known keys: username, password, password_env)`,
			},
		},
		{
			name: "headers",
			sources: `  - id: h
    url: https://h.example/rss
    tags: [t]
    headers:
      User-Agent: x
      if-none-match: "x"
      Accept-Encoding: gzip
      "Bad Name": x
      X-Key: "$WIRE_KEY"
      X-Open: "${WIRE_KEY"
      X-KEY: again
      X-List: [a, b]
      X-Nothing: ""
  - id: g
    url: https://g.example/rss
    tags: [t]
    headers: "X-Api-Key: apikey-inline"
`,
			want: []string{
				`feeds.yaml:9:7: source "h": headers: newsdesk does not let a source set User-Agent: use user_agent: instead`,
				`feeds.yaml:10:7: source "h": headers: newsdesk does not let a source set If-None-Match: newsdesk sends the stored ETag itself (conditional requests)`,
				`feeds.yaml:11:7: source "h": headers: newsdesk does not let a source set Accept-Encoding: newsdesk asks for gzip itself and decompresses; setting it turns that off`,
				`feeds.yaml:12:7: source "h": headers: "Bad Name" is not a header name: use letters, digits and - (e.g. X-Api-Key)`,
				`feeds.yaml:13:14: source "h": headers.X-Key: a $ that is not ${NAME}: write ${NAME} for an environment variable, or $$ for a $`,
				`feeds.yaml:14:15: source "h": headers.X-Open: a ${ without a variable's name and } after it: write ${NAME} (letters, digits and _), or $$ for a $`,
				`feeds.yaml:15:7: source "h": headers: X-Key appears twice (header names ignore case): keep one`,
				`feeds.yaml:16:15: source "h": headers.X-List should be a single value (quote it), not a list`,
				`feeds.yaml:17:18: source "h": headers.X-Nothing is empty: give its value, or remove the header`,
				`feeds.yaml:21:14: source "g": headers should be a mapping of header names to values, e.g. {X-Api-Key: "${WIRE_KEY}"}`,
			},
		},
		{
			name:     "defaults take user_agent only",
			defaults: "  auth: {username: u, password: hunter2-inline}\n  headers: {X-Api-Key: apikey-inline}\n  user_agent: \"a\\nb\"",
			sources:  "  - id: a\n    url: https://a.example/rss\n    tags: [t]\n",
			want: []string{
				`feeds.yaml:2:9: defaults.auth: credentials belong to one source's host, so auth goes in each source that needs it, not under defaults (defaults.user_agent is allowed)`,
				`feeds.yaml:3:12: defaults.headers: credentials belong to one source's host, so headers goes in each source that needs it, not under defaults (defaults.user_agent is allowed)`,
				`feeds.yaml:4:15: defaults.user_agent has a control character (a line break?), which a header cannot carry: remove it (from the variable too)`,
			},
		},
		{
			name: "credentials twice",
			sources: `  - id: a
    url: https://u:hunter2-url@a.example/rss
    tags: [t]
    auth: {username: u, password_env: WIRE_PASSWORD}
    headers: {Authorization: "Bearer ${WIRE_KEY}"}
  - id: b
    url: https://u:hunter2-url@b.example/rss
    tags: [t]
    headers: {Authorization: "Bearer ${WIRE_KEY}"}
  - id: c
    url: "https://u:hunter2-url@c.example:99999/rss"
    tags: [t]
`,
			want: []string{
				`feeds.yaml:6:10: source "a": url https://u:xxxxx@a.example/rss has a username and auth: is set too: give the credentials once, in auth:, and remove them from the url`,
				`feeds.yaml:9:14: source "a": headers.Authorization and auth both set the Authorization header: keep one`,
				`feeds.yaml:11:10: source "b": url https://u:xxxxx@b.example/rss has a username and headers.Authorization is set too: give the credentials once, and remove them from the url`,
			},
		},
		{
			name: "warnings: inline password, userinfo",
			sources: `  - id: partner-wire
    url: https://wire.example/rss
    tags: [t]
    auth: {username: newsdesk, password: hunter2-inline}
  - id: b
    url: https://u:hunter2-url@b.example/rss
    tags: [t]
  - id: c
    url: https://justuser@c.example/rss
    tags: [t]
`,
			warnings: []string{
				`feeds.yaml:8:42: warning: source "partner-wire": auth.password is written in feeds.yaml: move it to the environment, e.g. password_env: PARTNER_WIRE_PASSWORD, and set PARTNER_WIRE_PASSWORD in the environment of newsdesk (for systemd: EnvironmentFile=, see deploy/newsdesk.service)`,
				`feeds.yaml:10:10: warning: source "b": url https://u:xxxxx@b.example/rss carries a username and password: move them to auth: {username: u, password_env: B_PASSWORD} and keep the password in the environment, out of feeds.yaml`,
				`feeds.yaml:13:10: warning: source "c": url https://xxxxx@c.example/rss carries a username without a password, which is sent as HTTP Basic credentials: write them as auth: {username: ..., password_env: C_PASSWORD} instead, or remove the username; if it is a token, keep it in the environment`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defaults := tt.defaults
			if defaults == "" {
				defaults = "  timeout: 30s"
			}
			cfg, err := ParseEnv("feeds.yaml", "/etc/newsdesk", []byte(credentialsYAML(defaults, tt.sources)), env(secrets))
			var got []string
			var ps Problems
			switch {
			case errors.As(err, &ps):
				got = strings.Split(ps.Error(), "\n")
			case err != nil:
				t.Fatal(err)
			default:
				for _, w := range cfg.Warnings {
					got = append(got, w.String())
				}
			}
			want := tt.want
			if want == nil {
				want = tt.warnings
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			assertNoSecret(t, got)
		})
	}
}

// assertNoSecret fails when a message shows a secret of the tests: a
// variable's value or a password or key written in the file.
func assertNoSecret(t *testing.T, msgs []string) {
	t.Helper()
	values := []string{"hunter2", "apikey", "line2-secret", "justuser"}
	for _, v := range secrets {
		if v != "" {
			values = append(values, v)
		}
	}
	for _, m := range msgs {
		for _, v := range values {
			if strings.Contains(m, v) {
				t.Errorf("message shows the secret %q: %s", v, m)
			}
		}
	}
}

// TestCredentialsReload: a variable is read at every load, so a reload
// (serve calls LoadContext again) sends the new secret, and one that has
// gone is a problem, not an empty password.
func TestCredentialsReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	yaml := credentialsYAML("  timeout: 30s", `  - id: wire
    url: https://wire.example/rss
    tags: [t]
    auth: {username: newsdesk, password_env: NEWSDESK_TEST_WIRE_PASSWORD}
    headers: {X-Api-Key: "${NEWSDESK_TEST_WIRE_KEY}"}
`)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NEWSDESK_TEST_WIRE_KEY", "key-1")
	for _, pw := range []string{"first", "second"} {
		t.Setenv("NEWSDESK_TEST_WIRE_PASSWORD", pw)
		cfg, err := LoadContext(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Sources[0].Auth.Password; got != pw {
			t.Errorf("after setting the variable to %q, Auth.Password = %q", pw, got)
		}
	}
	os.Unsetenv("NEWSDESK_TEST_WIRE_PASSWORD")
	_, err := LoadContext(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "environment variable NEWSDESK_TEST_WIRE_PASSWORD is not set") {
		t.Errorf("LoadContext without the variable: error = %v, want it not set", err)
	}
	// A command that never fetches may read the file without its secrets.
	cfg, err := LoadEnv(context.Background(), path, AnyEnv)
	if err != nil || cfg.Sources[0].Auth == nil {
		t.Errorf("LoadEnv(AnyEnv) = %v, %v; want the source with a placeholder auth", cfg, err)
	}
}

// FuzzCredentials: whatever the secrets and the file around them, no
// problem or warning shows a variable's value, an inline password or a
// URL's password, nor any start of one (each begins with a marker no
// message has).
func FuzzCredentials(f *testing.F) {
	f.Add("hunter2", "apikey", "newsdesk", "X-Api-Key")
	f.Add("a\nb", "${x", "a:b", "Bad Name")
	f.Add("$$", "$", "", "User-Agent")
	f.Add("@x/", "}", "u@", "Authorization")
	const pwMark, keyMark = "Pw9q", "Ky7z"
	f.Fuzz(func(t *testing.T, password, key, user, header string) {
		if strings.Contains(user+header, pwMark) || strings.Contains(user+header, keyMark) {
			return
		}
		password, key = pwMark+password, keyMark+key
		vars := env(map[string]string{"P": password, "K": key})
		q := func(s string) string {
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s) + `"`
		}
		for _, src := range []string{
			"    url: https://a.example/rss\n    auth: {username: " + q(user) + ", password_env: P}\n    headers: {" + q(header) + `: "${K}"}` + "\n",
			"    url: https://a.example/rss\n    auth: {username: " + q(user) + ", password: " + q(password) + "}\n    headers: {" + q(header) + ": " + q(key) + "}\n",
			"    url: " + q("https://"+user+":"+password+"@a.example/rss") + "\n",
		} {
			yaml := credentialsYAML("  timeout: 30s", "  - id: a\n    tags: [t]\n"+src)
			cfg, err := ParseEnv("feeds.yaml", "/etc/newsdesk", []byte(yaml), vars)
			var msgs string
			if err != nil {
				msgs = err.Error()
			} else {
				msgs = cfg.Warnings.Error()
			}
			if strings.Contains(msgs, pwMark) || strings.Contains(msgs, keyMark) {
				t.Fatalf("a message shows a secret (%q, %q):\n%s", password, key, msgs)
			}
		}
	})
}
