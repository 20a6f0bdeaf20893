package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// The control socket lets the other commands work while `newsdesk serve`
// holds the database (bbolt lets one process open it). serve listens on a
// Unix socket beside the database file, mode 0600; a command that finds the
// file locked sends its arguments there, serve runs the command in-process
// on its open database and sends back what it printed and its exit code.

// socketPath is the control socket of the database at dbPath.
func socketPath(dbPath string) string { return dbPath + ".sock" }

// errForward asks the dispatcher to hand the command to the daemon
// listening on socket.
type errForward struct{ socket string }

func (e errForward) Error() string { return "database held by newsdesk serve at " + e.socket }

// controlRequest is what a command sends to the daemon.
type controlRequest struct {
	Args      []string `json:"args"`
	Dir       string   `json:"dir"` // the client's working folder, for relative paths
	LogFormat string   `json:"log_format"`
}

// controlReply is the daemon's answer.
type controlReply struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

func daemonListening(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// forward runs the command in the daemon listening on sock and relays its
// output and exit code.
func forward(ctx context.Context, sock string, args []string, stdout, stderr io.Writer, logFormat string) int {
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
		fmt.Fprintf(stderr, "newsdesk: the database is held by newsdesk serve, and its control socket %s does not answer: %v\n", sock, err)
		return exitTempFail
	}
	defer c.Close()
	go func() { // a cancelled command (Ctrl-C) closes the connection
		<-ctx.Done()
		c.Close()
	}()
	if err := json.NewEncoder(c).Encode(controlRequest{Args: args, Dir: dir, LogFormat: logFormat}); err != nil {
		fmt.Fprintf(stderr, "newsdesk: sending the command to newsdesk serve: %v\n", err)
		return exitError
	}
	var reply controlReply
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&reply); err != nil {
		fmt.Fprintf(stderr, "newsdesk: no answer from newsdesk serve on %s: %v\n", sock, err)
		return exitError
	}
	io.WriteString(stdout, reply.Stdout)
	io.WriteString(stderr, reply.Stderr)
	return reply.Code
}

// serveControl listens on the control socket until ctx is done, running
// each client's command in-process, and waits for running commands.
func (d *daemon) serveControl(ctx context.Context, sock string) error {
	if daemonListening(sock) {
		return fmt.Errorf("control socket %s: another newsdesk serve answers there", sock)
	}
	os.Remove(sock) // left by a daemon that was killed
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", sock)
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control socket: %w", err)
	}
	var wg sync.WaitGroup
	defer func() {
		ln.Close()
		wg.Wait()
		os.Remove(sock)
	}()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("control socket: %w", err)
		}
		wg.Go(func() { d.handleControl(ctx, c.(*net.UnixConn)) })
	}
}

func (d *daemon) handleControl(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	if !sameUser(c) {
		d.log.Warn("control socket: refused a client of another user")
		return
	}
	// A client that connects and says nothing must not hold up shutdown.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var req controlRequest
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&req); err != nil || len(req.Args) == 0 {
		return
	}
	// The client sends nothing more; when it hangs up (Ctrl-C), the read
	// returns and the command is cancelled.
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
	d.log.Info("running a command for a client of the control socket", "command", req.Args[0])
	code := dispatch(ctx, e, req.Args)
	json.NewEncoder(c).Encode(controlReply{Stdout: stdout.String(), Stderr: stderr.String(), Code: code})
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
