// Command newsdesk is an RSS/Atom feed aggregator: it polls the sources
// listed in feeds.yaml, keeps their items in a bbolt file and republishes
// curated sections as RSS, Atom and JSON Feed, over HTTP (serve) or as static
// files (run, export).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/store/postgres"
	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes (documented in the README).
const (
	exitOK       = 0
	exitError    = 1  // the command could not do its work; the message says why
	exitUsage    = 2  // bad command line
	exitTempFail = 75 // EX_TEMPFAIL: the database is held by another process; try again later
)

// busyError is a database held by another process: exit 75 (EX_TEMPFAIL),
// so that cron wrappers can tell "try later" from "broken".
type busyError struct{ err error }

func (e busyError) Error() string { return e.err.Error() }
func (e busyError) Unwrap() error { return e.err }

// command is one `newsdesk COMMAND`.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, env *env, args []string) error
}

// commands is filled in init: the commands' flag sets read it for their
// usage text, which would otherwise be an initialization cycle.
var commands []command

func init() {
	commands = []command{
		{"check", "", "validate feeds.yaml and list every problem with its line", cmdCheck},
		{"run", "[-force] [-source ID]...", "fetch the sources that are due once, store their items, write the export (for cron)", cmdRun},
		{"serve", "[-listen ADDR]", "fetch sources when due and serve the sections over HTTP until stopped", cmdServe},
		{"export", "-out DIR", "write the published files from what is stored, without fetching", cmdExport},
		{"status", "", "show each source's last fetch, result, stored items and next due time", cmdStatus},
		{"preview", "SECTION", "print what a section contains now, and the rule that admitted each item", cmdPreview},
		{"explain", "SECTION ITEM", "say which rule keeps or drops an item in a section", cmdExplain},
		{"pin", "SECTION ITEM", "show an item first in a section, whatever its rules say", cmdDecide("pin")},
		{"unpin", "SECTION ITEM", "undo pin", cmdDecide("unpin")},
		{"hide", "SECTION ITEM", "keep an item out of a section", cmdDecide("hide")},
		{"unhide", "SECTION ITEM", "undo hide", cmdDecide("unhide")},
		{"import", "[-dry-run] FILE.opml", "add the feeds of another reader's OPML export to feeds.yaml, keeping its comments", cmdImport},
		{"backup", "FILE", "write a consistent copy of the database to FILE, also while serve or run holds it", cmdBackup},
		{"compact", "", "rewrite the database file to reclaim the space of pruned items (stop serve first)", cmdCompact},
		{"verify", "[FILE]", "check the database file (or FILE, such as a backup) for damage, page by page", cmdVerify},
		{"migrate", "-from FILE.db | -to FILE.db", "copy a bbolt database into the PostgreSQL store feeds.yaml names, or that store into a new bbolt file", cmdMigrate},
		{"refetch-text", "SOURCE [ITEM]", "extract a full_text source's articles again with its current rules, from the stored pages where possible", cmdRefetchText},
		{"purge", "[-dry-run]", "remove now what is stored of the sources removed from feeds.yaml", cmdPurge},
		{"version", "", "print the version", cmdVersion},
	}
}

// env is what every command gets from the operating system.
type env struct {
	stdout, stderr io.Writer
	logFormat      string     // -log-format
	logLevel       slog.Level // -log-level

	// Set when the command runs inside `newsdesk serve` for a client of its
	// control socket: relative paths are relative to the client's folder,
	// the daemon's open database is used, and fetches re-render its feeds.
	dir    string
	daemon *daemon
	stream io.Writer // where backup sends its copy for the client to write

	command string // the command being run, set by dispatch
}

// usesSecrets reports whether a command needs the secrets feeds.yaml names
// in the environment (password_env, ${VAR}, token_env): those that fetch
// sources, serve sections, or check the file. The others read what is
// stored, and run where the service's environment is not (an operator's
// shell): a variable that is not set there does not stop them.
func usesSecrets(command string) bool {
	switch command {
	case "check", "run", "serve":
		return true
	}
	return false
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errReported means the command already printed what went wrong.
var errReported = errors.New("reported")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dispatch(ctx, &env{stdout: stdout, stderr: stderr}, args)
}

// dispatch runs the command args name with e, here or, when e finds the
// database held by `newsdesk serve`, in the daemon through its control
// socket.
func dispatch(ctx context.Context, e *env, args []string) int {
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "newsdesk: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	e.command = name
	err := commands[i].run(ctx, e, args[1:])
	var fwd errForward
	if errors.As(err, &fwd) {
		if name == "serve" {
			fmt.Fprintf(stderr, "newsdesk serve: another newsdesk serve already holds this database (control socket %s): stop it first, or give this one another storage.path\n", fwd.socket)
			return exitError
		}
		code := forward(ctx, fwd.socket, args, stdout, stderr, e.logFormat, fwd.stream)
		if fwd.finish != nil {
			code = fwd.finish(code)
		}
		return code
	}
	var ue usageError
	var code exitCode
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, errReported):
		return exitError
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "newsdesk %s: %s\n", name, ue.msg)
		return exitUsage
	case errors.As(err, new(busyError)), errors.Is(err, store.ErrLocked):
		fmt.Fprintf(stderr, "newsdesk %s: %v\n", name, err)
		return exitTempFail
	default:
		fmt.Fprintf(stderr, "newsdesk %s: %v\n", name, err)
		return exitError
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `newsdesk polls RSS/Atom/JSON feeds and republishes curated sections of them.

Usage:
  newsdesk COMMAND [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Every command takes -config PATH (default feeds.yaml). Run 'newsdesk COMMAND -h' for its flags.
`)
}

// flags returns a flag set for a command with the -config flag every
// command shares.
func (e *env) flags(name string) (*flag.FlagSet, *string) {
	c := commands[slices.IndexFunc(commands, func(c command) bool { return c.name == name })]
	fs := flag.NewFlagSet("newsdesk "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: newsdesk %s %s\n\n%s.\n\nFlags:\n", name, strings.TrimSpace("[-config PATH] "+c.args), capitalize(c.summary))
		fs.PrintDefaults()
	}
	config := fs.String("config", "feeds.yaml", "the configuration `PATH`")
	// A command run by serve for a client keeps the client's format (set
	// before its flags are parsed); -log-format still overrides it.
	given := e.logFormat
	fs.StringVar(&e.logFormat, "log-format", "", "log as `text` or json (default: text on a terminal, json otherwise)")
	e.logFormat = given
	e.logLevel = unsetLevel
	fs.Var((*levelFlag)(&e.logLevel), "log-level", "log `level`: debug, info, warn or error (default info; warn for run)")
	return fs, config
}

// isTerminal reports whether w is a terminal (a person reading).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// unsetLevel marks -log-level as not given, so each command picks its own
// default.
const unsetLevel = -100

// levelFlag is -log-level: a slog.Level that shows no default when unset.
type levelFlag slog.Level

func (l *levelFlag) String() string {
	if l == nil || *l == unsetLevel || *l == 0 {
		return ""
	}
	return slog.Level(*l).String()
}

func (l *levelFlag) Set(s string) error { return (*slog.Level)(l).UnmarshalText([]byte(s)) }

func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// parse parses the flags of a command that takes no positional argument
// (parseArgs).
func parse(fs *flag.FlagSet, args []string) error {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (see 'newsdesk %s -h')", pos[0], strings.TrimPrefix(fs.Name(), "newsdesk "))}
	}
	return nil
}

// loadConfig reads feeds.yaml; problems are printed one per line and the
// command fails.
func (e *env) loadConfig(path string) (*config.Config, error) {
	return e.loadConfigContext(context.Background(), path)
}

// loadConfigContext is loadConfig that gives up once ctx is done.
func (e *env) loadConfigContext(ctx context.Context, path string) (*config.Config, error) {
	if e.dir != "" && !filepath.IsAbs(path) {
		path = filepath.Join(e.dir, path)
	}
	lookup := os.LookupEnv
	if !usesSecrets(e.command) {
		lookup = config.SetEnv
	}
	cfg, err := config.LoadEnv(ctx, path, lookup)
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(e.stderr, p)
		}
		fmt.Fprintf(e.stderr, "newsdesk: %s has %s; fix %s and try again ('newsdesk check' lists them)\n", path, plural(len(ps), "problem"), pronoun(len(ps)))
		return nil, errReported
	}
	return cfg, err
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// logger is the command's logger: text for people on a terminal, JSON for
// log collectors, at -log-level or else the command's default level.
func (e *env) logger(defaultLevel slog.Level) *slog.Logger {
	level := e.logLevel
	if level == unsetLevel {
		level = defaultLevel
	}
	opts := &slog.HandlerOptions{Level: level}
	format := e.logFormat
	if format == "" {
		format = "json"
		if isTerminal(e.stderr) {
			format = "text"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// open loads the config and opens its database; the caller closes it.
func (e *env) open(configPath string) (*config.Config, store.Store, error) {
	cfg, err := e.loadConfig(configPath)
	if err != nil {
		return nil, nil, err
	}
	db, err := e.openStore(cfg, 0)
	if err != nil {
		return nil, nil, err
	}
	return cfg, db, nil
}

// openStore opens the config's store: the PostgreSQL database when the
// config names one (config.Config.Postgres), which every process opens
// directly; else the bbolt file, waiting up to wait for another process to
// release it. Inside `newsdesk serve` it lends the daemon's open database;
// outside, when the file is held by a `newsdesk serve` that listens on its
// control socket, the command is handed to it (errForward).
func (e *env) openStore(cfg *config.Config, wait time.Duration) (store.Store, error) {
	if cfg.Postgres != "" {
		return openPostgres(cfg)
	}
	if e.daemon != nil {
		if cfg.DBPath != e.daemon.db.Path() {
			return nil, fmt.Errorf("this newsdesk serve uses %s, not %s: run the command with the config serve was started with", e.daemon.db.Path(), cfg.DBPath)
		}
		return e.daemon.db.Borrow(), nil
	}
	deadline := time.Now().Add(wait)
	for {
		db, err := bolt.Open(cfg.DBPath, bolt.Options{LockTimeout: min(time.Until(deadline), time.Second)})
		if err == nil {
			for _, n := range db.Notices() { // a migration, leftovers removed
				fmt.Fprintf(e.stderr, "newsdesk: %s\n", n)
			}
			return db, nil
		}
		if !errors.Is(err, store.ErrLocked) {
			return nil, err
		}
		// Held: by a serve (now, or once it has started listening), whose
		// control socket takes the command, by a run that answers the
		// commands that read, or by another run to wait for.
		if sock := config.SocketPath(cfg.DBPath); daemonTakes(sock, e.command) {
			return nil, errForward{socket: sock}
		}
		if !time.Now().Before(deadline) {
			return nil, err
		}
	}
}

// openPostgres opens the config's PostgreSQL store.
func openPostgres(cfg *config.Config) (store.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), postgresOpenTimeout)
	defer cancel()
	db, err := postgres.Open(ctx, cfg.Postgres)
	if err != nil {
		return nil, fmt.Errorf("%w (the database named by %s)", err, cfg.PostgresFrom)
	}
	return db, nil
}

// postgresOpenTimeout bounds connecting to PostgreSQL and migrating its
// schema (which waits for another instance's migration).
const postgresOpenTimeout = time.Minute

func userAgent(cfg *config.Config) string {
	return "newsdesk/" + newsdesk.Version + " (+" + cfg.UserAgentURL + ")"
}

// newScheduler builds the fetch scheduler for the configured sources; m
// is this process's membership of a shared store, whose sources it then
// leases (nil for a file of its own).
func newScheduler(cfg *config.Config, db store.Store, log *slog.Logger, m *member) *fetcher.Scheduler {
	s := fetcher.NewScheduler(fetcher.NewClient(userAgent(cfg)), db, cfg.Sources, log)
	s.Concurrency, s.PerHost = cfg.Concurrency, cfg.PerHost
	if m != nil {
		s.Cluster, s.Instance, s.Lease = m.cluster, m.ID(), cfg.Lease
	}
	return s
}

// publisherConfig is the publisher's configuration for a static export,
// which advertises only the external WebSub hubs (publish.websub_hubs): a
// static host has no hub of its own.
func publisherConfig(cfg *config.Config) publisher.Config {
	return publisher.Config{BaseURL: cfg.BaseURL, Title: "newsdesk", Sources: cfg.Sources, Sections: cfg.Sections, Hubs: cfg.WebSubHubs}
}
