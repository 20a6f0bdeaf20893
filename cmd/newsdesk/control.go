package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk/config"
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
//
// The protocol: the client sends one JSON request line. The holder answers
// with JSON lines: zero or more stream frames ({"data":N} followed by N raw
// bytes: the copy `backup` makes, which the client writes), then the reply
// with stdout, stderr and the exit code.

// Limits of the control socket: a client that sends a huge request, says
// nothing, or stops reading cannot take the holder's memory or hold up its
// shutdown.
const (
	maxControlRequest   = 1 << 20          // bytes of one request
	controlReadTimeout  = 10 * time.Second // to send the request
	controlWriteTimeout = 30 * time.Second // for each write of the answer
	controlCloseGrace   = 2 * time.Second  // for answers in flight once shutdown begins
)

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

// controlRequest is what a command sends to the daemon. Hello asks only
// what kind of holder listens (controlReply.Holder).
type controlRequest struct {
	Args      []string `json:"args"`
	Dir       string   `json:"dir"` // the client's working folder, for relative paths
	LogFormat string   `json:"log_format"`
	Stream    bool     `json:"stream,omitempty"` // the client takes stream frames
	Hello     bool     `json:"hello,omitempty"`
}

// controlReply is one line of the daemon's answer: a stream frame when
// Data > 0 (Data raw bytes follow the line), else the final reply.
type controlReply struct {
	Data   int64  `json:"data,omitempty"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
	Holder string `json:"holder,omitempty"` // "serve" or "run", to a Hello
}

func daemonListening(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// daemonTakes reports whether the process listening on sock runs command
// for its clients: serve runs every command, a run only those that read.
func daemonTakes(sock, command string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := json.NewEncoder(c).Encode(controlRequest{Hello: true}); err != nil {
		return false
	}
	var reply controlReply
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return false
	}
	return reply.Holder == "serve" || reply.Holder == "run" && slices.Contains(readOnlyCommands, command)
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
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		fmt.Fprintf(stderr, "newsdesk: the database is held by a newsdesk serve or run whose control socket %s does not answer: %v\n", sock, err)
		return exitTempFail
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() }) // a cancelled command (Ctrl-C) closes the connection
	defer stop()
	req := controlRequest{Args: args, Dir: dir, LogFormat: logFormat, Stream: stream != nil}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		fmt.Fprintf(stderr, "newsdesk: sending the command to the newsdesk process that holds the database: %v\n", err)
		return exitError
	}
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadBytes('\n')
		var reply controlReply
		if err == nil {
			err = json.Unmarshal(line, &reply)
		}
		if err != nil {
			fmt.Fprintf(stderr, "newsdesk: no answer from the newsdesk process on %s: %v\n", sock, err)
			return exitError
		}
		if reply.Data > 0 {
			if stream == nil {
				fmt.Fprintf(stderr, "newsdesk: the newsdesk process on %s sent data this command did not ask for\n", sock)
				return exitError
			}
			if _, err := io.CopyN(stream, br, reply.Data); err != nil {
				fmt.Fprintf(stderr, "newsdesk: receiving from the newsdesk process on %s: %v\n", sock, err)
				return exitError
			}
			continue
		}
		io.WriteString(stdout, reply.Stdout)
		io.WriteString(stderr, reply.Stderr)
		return reply.Code
	}
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
	ln, err := listenControl(config.SocketPath(cfg.DBPath))
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

// listenControl binds the control socket sock: mode 0600, replacing one
// left by a holder that was killed, refusing one that answers.
func listenControl(sock string) (net.Listener, error) {
	if daemonListening(sock) {
		return nil, fmt.Errorf("control socket %s: another newsdesk serve answers there", sock)
	}
	os.Remove(sock) // left by a daemon that was killed
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", sock)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

// serveControl answers clients on ln until ctx is done, running each
// client's command in-process. Then it stops accepting, cancels the
// commands, gives their answers controlCloseGrace, closes the connections
// that are left (clients that stopped reading) and removes the socket.
// When ln is closed while ctx is not done, it waits for the commands in
// flight to finish.
func (d *daemon) serveControl(ctx context.Context, ln net.Listener) error {
	sock := ln.Addr().String()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	defer func() {
		ln.Close()
		mu.Lock()
		if ctx.Err() != nil {
			for c := range conns {
				c.SetDeadline(time.Now().Add(controlCloseGrace))
			}
		}
		mu.Unlock()
		wg.Wait()
		os.Remove(sock)
	}()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("control socket: %w", err)
		}
		mu.Lock()
		if ctx.Err() != nil {
			c.SetDeadline(time.Now().Add(controlCloseGrace))
		}
		conns[c] = true
		mu.Unlock()
		wg.Go(func() {
			d.handleControl(ctx, c.(*net.UnixConn))
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		})
	}
}

func (d *daemon) handleControl(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	if !sameUser(c) {
		d.log.Warn("control socket: refused a client of another user")
		return
	}
	// A client that connects and says nothing, or says too much, must not
	// hold up shutdown or take the memory.
	c.SetReadDeadline(time.Now().Add(controlReadTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, maxControlRequest)).ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) == maxControlRequest {
			d.reply(ctx, c, controlReply{Stderr: fmt.Sprintf("newsdesk: a control request is at most %d bytes\n", maxControlRequest), Code: exitUsage})
		}
		return
	}
	var req controlRequest
	if err := json.Unmarshal(line, &req); err != nil {
		d.reply(ctx, c, controlReply{Stderr: fmt.Sprintf("newsdesk: bad control request: %v\n", err), Code: exitUsage})
		return
	}
	holder := "serve"
	if d.cronRun {
		holder = "run"
	}
	if req.Hello {
		d.reply(ctx, c, controlReply{Holder: holder})
		return
	}
	if len(req.Args) == 0 {
		d.reply(ctx, c, controlReply{Stderr: "newsdesk: the control request names no command\n", Code: exitUsage})
		return
	}
	if refused := d.refuse(req.Args[0]); refused != nil {
		d.reply(ctx, c, *refused)
		return
	}
	// The client sends nothing more; when it hangs up (Ctrl-C), the read
	// returns and the command is cancelled.
	serverCtx := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.SetReadDeadline(time.Time{})
	go func() {
		var b [1]byte
		c.Read(b[:])
		cancel()
	}()
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, logFormat: req.LogFormat, logLevel: unsetLevel, dir: req.Dir, daemon: d}
	if req.Stream {
		e.stream = &frameWriter{ctx: ctx, c: c}
	}
	d.log.Info("running a command for a client of the control socket", "command", req.Args[0])
	code := dispatch(ctx, e, req.Args)
	d.reply(serverCtx, c, controlReply{Stdout: stdout.String(), Stderr: stderr.String(), Code: code})
}

// refuse answers the commands this holder does not run for a client: a
// second serve, and while a run holds the file, anything that writes.
func (d *daemon) refuse(command string) *controlReply {
	switch {
	case command == "serve":
		return &controlReply{Stderr: fmt.Sprintf("newsdesk serve: another newsdesk process (pid %d) already holds %s: stop it first, or give this one another storage.path\n", os.Getpid(), d.db.Path()), Code: exitError}
	case d.cronRun && !slices.Contains(readOnlyCommands, command):
		return &controlReply{Stderr: fmt.Sprintf("newsdesk %s: database %s is in use by newsdesk run (pid %d), which answers only %v meanwhile: try again when it has finished (exit 75, EX_TEMPFAIL)\n", command, d.db.Path(), os.Getpid(), readOnlyCommands), Code: exitTempFail}
	}
	return nil
}

// reply writes one answer line, giving up after controlWriteTimeout on a
// client that does not read (controlCloseGrace once ctx, the listener's, is
// done: shutting down).
func (d *daemon) reply(ctx context.Context, c net.Conn, r controlReply) {
	c.SetWriteDeadline(writeDeadline(ctx))
	if err := json.NewEncoder(c).Encode(r); err != nil {
		d.log.Warn("control socket: the client did not take the answer", "error", err)
	}
}

func writeDeadline(ctx context.Context) time.Time {
	if ctx.Err() != nil {
		return time.Now().Add(controlCloseGrace)
	}
	return time.Now().Add(controlWriteTimeout)
}

// frameWriter sends what a command streams to its client (backup's copy)
// as stream frames, each write bounded by controlWriteTimeout; it fails
// once ctx (the command's) is done.
type frameWriter struct {
	ctx context.Context
	c   net.Conn
}

func (w *frameWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	w.c.SetWriteDeadline(writeDeadline(w.ctx))
	hdr, _ := json.Marshal(controlReply{Data: int64(len(p))})
	if _, err := w.c.Write(append(hdr, '\n')); err != nil {
		return 0, err
	}
	return w.c.Write(p)
}

// sameUser reports whether the peer of a Unix connection runs as this
// process's user, or as root (who could read the database anyway, and is
// who runs commands against a systemd DynamicUser service). The socket's
// mode 0600 says so too; this also holds when the folder's permissions are
// loose.
func sameUser(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *syscall.Ucred
	raw.Control(func(fd uintptr) {
		cred, err = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	return err == nil && cred != nil && (int(cred.Uid) == os.Getuid() || cred.Uid == 0)
}
