package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// syntaxProblem places a YAML syntax error at the line to fix. yaml.v3
// reports the line where the enclosing block started, which can be far above
// the mistake (a source list's first line for a bad indent in its
// thousandth source). The line the operator has to look at is where the
// first prefix of the file that no longer parses ends. A parser reading the
// file a line at a time stops a line or two past it, so the search starts
// there and gallops back: a few parses of the file, not one per line.
func (p *parser) syntaxProblem(ctx context.Context, data []byte, err error) (Problem, error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = msg[len(m[0]):]
	}
	lines := strings.SplitAfter(string(data), "\n")
	var ctxErr error
	fails := func(n int) bool {
		if ctxErr != nil {
			return true
		}
		if err := decodeYAML(ctx, []byte(strings.Join(lines[:n], "")), new(yaml.Node), nil); err != nil {
			ctxErr = ctx.Err()
			return true
		}
		return false
	}
	line = min(line, len(lines))
	if !fails(line) {
		// Where a parser reading line by line stopped: the prefix up to
		// there fails (else the whole file is the one that fails).
		var read int
		decodeYAML(ctx, data, new(yaml.Node), &read)
		hi := min(max(read, line+1), len(lines))
		if !fails(hi) {
			hi = len(lines)
		}
		// The prefix of lo lines parses, that of hi lines does not.
		lo := line
		for step := 1; hi-step > lo; step *= 2 {
			if !fails(hi - step) {
				lo = hi - step
				break
			}
			hi -= step
		}
		for hi-lo > 1 {
			if mid := (lo + hi) / 2; fails(mid) {
				hi = mid
			} else {
				lo = mid
			}
		}
		line = hi
	}
	if ctxErr != nil {
		return Problem{}, fmt.Errorf("read config: %w", ctxErr)
	}
	return Problem{Path: p.name, Line: line, Col: 1, Msg: "YAML syntax: " + msg}, nil
}

// decodeYAML parses data into doc, reading it a line at a time so that it
// stops once ctx is done, and counting in *read (when not nil) the lines
// the parser has asked for.
func decodeYAML(ctx context.Context, data []byte, doc *yaml.Node, read *int) error {
	err := yaml.NewDecoder(&lineReader{ctx: ctx, data: data, lines: read}).Decode(doc)
	if errors.Is(err, io.EOF) { // no document: an empty file, or only comments
		return nil
	}
	return err
}

// lineReader hands out data a line per Read and fails once ctx is done.
type lineReader struct {
	ctx     context.Context
	data    []byte
	lines   *int
	midLine bool // the last Read ended inside a line
}

func (r *lineReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	end := len(r.data)
	if i := bytes.IndexByte(r.data, '\n'); i >= 0 {
		end = i + 1
	}
	n := copy(b, r.data[:end])
	if r.lines != nil && n > 0 && !r.midLine {
		*r.lines++ // a line's first bytes
	}
	r.midLine = n > 0 && r.data[n-1] != '\n'
	r.data = r.data[n:]
	return n, nil
}
