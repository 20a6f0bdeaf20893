// Package control is the wire protocol of newsdesk's control socket: the
// Unix socket on which the process holding the database (newsdesk serve,
// or a newsdesk run from cron) runs the other commands for their clients,
// since bbolt lets one process open the file.
//
// The client sends one JSON request line (Request). The holder answers with
// JSON lines: zero or more stream frames ({"data":N} followed by N raw
// bytes: the copy `backup` makes, which the client writes), then the reply
// with stdout, stderr and the exit code (Reply). A Hello request asks only
// what kind of holder listens.
//
// The package knows the protocol and its limits, not the commands: the
// server hands each request to a Handler, which decides what it does.
package control

import "time"

// Limits of the control socket: a client that sends a huge request, says
// nothing, or stops reading cannot take the holder's memory or hold up its
// shutdown.
const (
	MaxRequest   = 1 << 20          // bytes of one request
	ReadTimeout  = 10 * time.Second // to send the request
	WriteTimeout = 30 * time.Second // for each write of the answer
	CloseGrace   = 2 * time.Second  // for answers in flight once shutdown begins
)

// exitUsage is the exit code of a command-line mistake (newsdesk's 2),
// given to a request the server cannot read.
const exitUsage = 2

// Request is what a command sends to the holder. Hello asks only what kind
// of holder listens (Reply.Holder).
type Request struct {
	Args      []string `json:"args"`
	Dir       string   `json:"dir"` // the client's working folder, for relative paths
	LogFormat string   `json:"log_format"`
	Stream    bool     `json:"stream,omitempty"` // the client takes stream frames
	Hello     bool     `json:"hello,omitempty"`
}

// Reply is one line of the holder's answer: a stream frame when Data > 0
// (Data raw bytes follow the line), else the final reply.
type Reply struct {
	Data   int64  `json:"data,omitempty"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
	Holder string `json:"holder,omitempty"` // "serve" or "run", to a Hello
}
