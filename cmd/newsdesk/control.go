package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"

	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/internal/control"
	"github.com/newsdesk/newsdesk/metrics"
	"github.com/newsdesk/newsdesk/store"
)

// The control socket lets the other commands work while `newsdesk serve`
// (or a `newsdesk run` from cron) holds the database (bbolt lets one
// process open it). The holder listens on a Unix socket beside the database
// file, mode 0600; a command that finds the file locked sends its arguments
// there, the holder runs the command in-process on its open database and
// sends back what it printed and its exit code. A run answers only the
// commands that read (readOnlyCommands); the others wait for it or exit 75.
// The wire protocol, its limits and the client are internal/control's;
// what a request runs is decided here.

// readOnlyCommands are what a `newsdesk run` answers on its control socket
// while it fetches: they only read the database.
var readOnlyCommands = []string{"status", "preview", "explain", "export", "backup", "verify", "version"}

// errForward asks the dispatcher to hand the command to the daemon
// listening on socket. When stream is set, the daemon's stream frames are
// written there, and finish, when set, turns the daemon's exit code into
// the command's (it keeps or discards what was streamed).
type errForward struct {
	socket string
	stream io.Writer
	finish func(code int) int
}

func (e errForward) Error() string { return "database held by newsdesk serve at " + e.socket }

// daemonTakes reports whether the process listening on sock runs command
// for its clients: serve runs every command, a run only those that read.
func daemonTakes(sock, command string) bool {
	holder := control.Hello(sock)
	return holder == "serve" || holder == "run" && slices.Contains(readOnlyCommands, command)
}

// forward runs the command in the daemon listening on sock and relays its
// output and exit code; stream frames go to stream.
func forward(ctx context.Context, sock string, args []string, stdout, stderr io.Writer, logFormat string, stream io.Writer) int {
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "newsdesk: %v\n", err)
		return exitError
	}
	if logFormat == "" {
		logFormat = "json"
		if isTerminal(stderr) {
			logFormat = "text"
		}
	}
	code, err := control.Forward(ctx, sock, control.Request{Args: args, Dir: dir, LogFormat: logFormat}, stdout, stderr, stream)
	if err != nil {
		fmt.Fprintf(stderr, "newsdesk: %v\n", err)
		if errors.As(err, new(*control.DialError)) {
			return exitTempFail
		}
		return exitError
	}
	return code
}

// answerWhileRunning makes a `newsdesk run` that holds db answer the
// read-only commands (status, preview, export, backup...) on its control
// socket until the returned stop is called, so that they need not wait for
// the run (a slow source makes that its whole timeout). The run goes on
// without it when the socket cannot be bound. stop takes no new clients and
// waits for the commands in flight (a backup being streamed) to finish, so
// that a run that ends meanwhile does not cut them off; ctx, the run's,
// still cancels them.
func answerWhileRunning(ctx context.Context, cfg *config.Config, db store.Store, log *slog.Logger) (stop func()) {
	ln, err := control.Listen(config.SocketPath(cfg.DBPath))
	if err != nil {
		log.Warn("other commands wait for this run: its control socket could not be bound", "error", err)
		return func() {}
	}
	d := &daemon{path: cfg.Path, db: db, log: log, metrics: metrics.New(), cronRun: true}
	d.cfg.Store(cfg)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := d.serveControl(ctx, ln); err != nil {
			log.Warn("control socket", "error", err)
		}
	})
	return func() {
		ln.Close()
		wg.Wait()
		cancel()
	}
}

// serveControl answers the clients of the control socket ln until ctx is
// done (control.Server.Serve), running each client's command in-process.
func (d *daemon) serveControl(ctx context.Context, ln net.Listener) error {
	holder := "serve"
	if d.cronRun {
		holder = "run"
	}
	s := &control.Server{Holder: holder, Handle: d.handleControl, Log: d.log}
	return s.Serve(ctx, ln)
}

// handleControl runs a client's command on the daemon's open database;
// ctx is done when the client hangs up.
func (d *daemon) handleControl(ctx context.Context, req control.Request, stream io.Writer) control.Reply {
	if len(req.Args) == 0 {
		return control.Reply{Stderr: "newsdesk: the control request names no command\n", Code: exitUsage}
	}
	if refused := d.refuse(req.Args[0]); refused != nil {
		return *refused
	}
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, logFormat: req.LogFormat, logLevel: unsetLevel, dir: req.Dir, daemon: d, stream: stream}
	d.log.Info("running a command for a client of the control socket", "command", req.Args[0])
	code := dispatch(ctx, e, req.Args)
	return control.Reply{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// refuse answers the commands this holder does not run for a client: a
// second serve, and while a run holds the file, anything that writes.
func (d *daemon) refuse(command string) *control.Reply {
	switch {
	case command == "serve":
		return &control.Reply{Stderr: fmt.Sprintf("newsdesk serve: another newsdesk process (pid %d) already holds %s: stop it first, or give this one another storage.path\n", os.Getpid(), d.db.Path()), Code: exitError}
	case d.cronRun && !slices.Contains(readOnlyCommands, command):
		return &control.Reply{Stderr: fmt.Sprintf("newsdesk %s: database %s is in use by newsdesk run (pid %d), which answers only %v meanwhile: try again when it has finished (exit 75, EX_TEMPFAIL)\n", command, d.db.Path(), os.Getpid(), readOnlyCommands), Code: exitTempFail}
	}
	return nil
}
