package control

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"time"
)

// Listening reports whether a process answers on the socket sock.
func Listening(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Hello asks the process listening on sock what kind of holder it is
// ("serve" or "run"); "" when none answers.
func Hello(sock string) string {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := json.NewEncoder(c).Encode(Request{Hello: true}); err != nil {
		return ""
	}
	var reply Reply
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return ""
	}
	return reply.Holder
}

// DialError is Forward's error when nothing answers on the socket: the
// command may wait and try again (newsdesk exits 75).
type DialError struct {
	Sock string
	Err  error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("the database is held by a newsdesk serve or run whose control socket %s does not answer: %v", e.Sock, e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// Forward sends req to the holder listening on sock and relays its answer:
// stream frames to stream, then the reply's stdout and stderr; it returns
// the reply's exit code. req.Stream is set when stream is not nil.
// Cancelling ctx (Ctrl-C) hangs up, which cancels the command. The error
// says what went wrong with the exchange itself (a *DialError when nothing
// answers).
func Forward(ctx context.Context, sock string, req Request, stdout, stderr, stream io.Writer) (int, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return 0, &DialError{Sock: sock, Err: err}
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	req.Stream = stream != nil
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return 0, fmt.Errorf("sending the command to the newsdesk process that holds the database: %w", err)
	}
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadBytes('\n')
		var reply Reply
		if err == nil {
			err = json.Unmarshal(line, &reply)
		}
		if err != nil {
			return 0, fmt.Errorf("no answer from the newsdesk process on %s: %w", sock, err)
		}
		if reply.Data > 0 {
			if stream == nil {
				return 0, fmt.Errorf("the newsdesk process on %s sent data this command did not ask for", sock)
			}
			if _, err := io.CopyN(stream, br, reply.Data); err != nil {
				return 0, fmt.Errorf("receiving from the newsdesk process on %s: %w", sock, err)
			}
			continue
		}
		io.WriteString(stdout, reply.Stdout)
		io.WriteString(stderr, reply.Stderr)
		return reply.Code, nil
	}
}
