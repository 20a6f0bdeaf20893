package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// sampleEvery is how often a child's anonymous memory is read.
const sampleEvery = 50 * time.Millisecond

// anonSampler follows a child's RssAnon (heap and stacks: the anonymous
// part of its resident memory, without bbolt's file-backed mapping) in
// /proc/PID/status until stopped, and keeps the peak.
type anonSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	peak int64 // bytes
	seen bool  // at least one reading
}

// sampleAnon starts following pid's RssAnon.
func sampleAnon(pid int) *anonSampler {
	s := &anonSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *anonSampler) loop() {
	defer close(s.done)
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		s.read()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// read takes one reading; a child that has exited has none.
func (s *anonSampler) read() {
	n, err := rssAnon(s.pid)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.peak, s.seen = max(s.peak, n), true
	s.mu.Unlock()
}

// now is the child's RssAnon at this moment (and counts as a reading).
func (s *anonSampler) now() (int64, error) {
	n, err := rssAnon(s.pid)
	if err == nil {
		s.mu.Lock()
		s.peak, s.seen = max(s.peak, n), true
		s.mu.Unlock()
	}
	return n, err
}

// end stops sampling and returns the peak seen. The readings end when the
// child does (a zombie's status has no RssAnon).
func (s *anonSampler) end() (peak int64, ok bool) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak, s.seen
}

// rssAnon reads the RssAnon line of /proc/PID/status, in bytes.
func rssAnon(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("RssAnon:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest) // "12345 kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			break
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			break
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("/proc/%d/status has no RssAnon line (the benchmark reads memory as Linux reports it)", pid)
}
