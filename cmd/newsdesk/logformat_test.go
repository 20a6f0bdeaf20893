package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestClientLogFormatKept: a command serve runs for a client logs in the
// client's format (handleControl sets it before the command parses its
// flags), unless the command line says otherwise. Parsing the flags used to
// reset it, so a run handed to serve logged JSON to a person's terminal.
func TestClientLogFormatKept(t *testing.T) {
	for _, tt := range []struct {
		client string
		args   []string
		want   string
	}{
		{"text", nil, "level=INFO msg=hello"},
		{"json", nil, `"msg":"hello"`},
		{"text", []string{"-log-format", "json"}, `"msg":"hello"`},
	} {
		var stdout, stderr bytes.Buffer
		e := &env{stdout: &stdout, stderr: &stderr, logFormat: tt.client, logLevel: unsetLevel}
		fs, _ := e.flags("status")
		if err := parse(fs, tt.args); err != nil {
			t.Fatal(err)
		}
		e.logger(slog.LevelInfo).Info("hello")
		if !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("client format %s, args %q: logged %q, want it to contain %q", tt.client, tt.args, stderr.String(), tt.want)
		}
	}
}
