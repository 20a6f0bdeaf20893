package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Listen binds the control socket sock: mode 0600, replacing one left by a
// holder that was killed, refusing one that answers.
func Listen(sock string) (net.Listener, error) {
	if Listening(sock) {
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

// A Handler runs one client's command and returns its reply. ctx is done
// when the client hangs up or the server shuts down; stream, not nil when
// the client takes stream frames, sends them.
type Handler func(ctx context.Context, req Request, stream io.Writer) Reply

// Server answers the clients of a control socket.
type Server struct {
	Holder string // answered to a Hello: "serve" or "run"
	Handle Handler
	Log    *slog.Logger
}

// Serve answers clients on ln until ctx is done, each in its own
// goroutine. Then it stops accepting, cancels the commands, gives their
// answers CloseGrace, closes the connections that are left (clients that
// stopped reading) and removes the socket. When ln is closed while ctx is
// not done, it waits for the commands in flight to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
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
				c.SetDeadline(time.Now().Add(CloseGrace))
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
			c.SetDeadline(time.Now().Add(CloseGrace))
		}
		conns[c] = true
		mu.Unlock()
		wg.Go(func() {
			s.handle(ctx, c.(*net.UnixConn))
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		})
	}
}

// handle reads one client's request and answers it; ctx is the server's.
func (s *Server) handle(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	if !sameUser(c) {
		s.Log.Warn("control socket: refused a client of another user")
		return
	}
	// A client that connects and says nothing, or says too much, must not
	// hold up shutdown or take the memory.
	c.SetReadDeadline(time.Now().Add(ReadTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, MaxRequest)).ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) == MaxRequest {
			s.reply(ctx, c, Reply{Stderr: fmt.Sprintf("newsdesk: a control request is at most %d bytes\n", MaxRequest), Code: exitUsage})
		}
		return
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		s.reply(ctx, c, Reply{Stderr: fmt.Sprintf("newsdesk: bad control request: %v\n", err), Code: exitUsage})
		return
	}
	if req.Hello {
		s.reply(ctx, c, Reply{Holder: s.Holder})
		return
	}
	// The client sends nothing more; when it hangs up (Ctrl-C), the read
	// returns and the command is cancelled.
	cmdCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.SetReadDeadline(time.Time{})
	go func() {
		var b [1]byte
		c.Read(b[:])
		cancel()
	}()
	var stream io.Writer
	if req.Stream {
		stream = &frameWriter{ctx: cmdCtx, c: c}
	}
	s.reply(ctx, c, s.Handle(cmdCtx, req, stream))
}

// reply writes one answer line, giving up after WriteTimeout on a client
// that does not read (CloseGrace once ctx, the server's, is done: shutting
// down).
func (s *Server) reply(ctx context.Context, c net.Conn, r Reply) {
	c.SetWriteDeadline(writeDeadline(ctx))
	if err := json.NewEncoder(c).Encode(r); err != nil {
		s.Log.Warn("control socket: the client did not take the answer", "error", err)
	}
}

func writeDeadline(ctx context.Context) time.Time {
	if ctx.Err() != nil {
		return time.Now().Add(CloseGrace)
	}
	return time.Now().Add(WriteTimeout)
}

// frameWriter sends what a command streams to its client (backup's copy)
// as stream frames, each write bounded by WriteTimeout; it fails once ctx
// (the command's) is done.
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
	hdr, _ := json.Marshal(Reply{Data: int64(len(p))})
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
