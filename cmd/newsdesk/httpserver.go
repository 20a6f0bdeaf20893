package main

import (
	"log/slog"
	"net/http"
	"time"
)

// httpTimeouts bound how long one client can hold a connection of serve's
// HTTP server, whatever it sends or fails to read.
type httpTimeouts struct {
	ReadHeader time.Duration // the whole request header, however slowly it drips in (slowloris)
	Read       time.Duration // the whole request
	Write      time.Duration // the answer, to a client that reads slowly or not at all
	Idle       time.Duration // a keep-alive connection between requests
}

// serveTimeouts are serve's.
var serveTimeouts = httpTimeouts{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Write:      60 * time.Second,
	Idle:       120 * time.Second,
}

// maxHeaderBytes caps a request header; a larger one is answered 431.
const maxHeaderBytes = 64 << 10

// newHTTPServer returns serve's HTTP server for h with the given timeouts
// (serveTimeouts; tests shrink them), logging the server's own errors to
// log as warnings.
func newHTTPServer(h http.Handler, log *slog.Logger, t httpTimeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
