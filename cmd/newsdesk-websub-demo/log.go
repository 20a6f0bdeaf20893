package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// demoLog prints the demo's events, each with the time, one at a time.
type demoLog struct {
	mu  sync.Mutex
	out io.Writer
}

func newLog(out io.Writer) *demoLog { return &demoLog{out: out} }

func (l *demoLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}
