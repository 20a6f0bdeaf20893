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
// /proc/PID/status until stopped, and keeps the peak; and its VmHWM, the
// peak of all its resident memory, file-backed pages included.
//
// VmHWM stands in for the child's ru_maxrss, which on Linux is no
// measure of the child: it starts at the resident memory of the process
// that started it (this one, holding every feed), as a child that only
// runs true shows.
type anonSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	peak int64 // bytes of RssAnon
	hwm  int64 // bytes of VmHWM
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
	s.now()
}

// now is the child's RssAnon at this moment (and counts as a reading).
func (s *anonSampler) now() (int64, error) {
	anon, hwm, err := memStatus(s.pid)
	if err == nil {
		s.mu.Lock()
		s.peak, s.hwm, s.seen = max(s.peak, anon), max(s.hwm, hwm), true
		s.mu.Unlock()
	}
	return anon, err
}

// end stops sampling and returns the peaks seen: of RssAnon, and VmHWM.
// The readings end when the child does (a zombie's status has no memory).
func (s *anonSampler) end() (anon, hwm int64, ok bool) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak, s.hwm, s.seen
}

// memStatus reads the RssAnon and VmHWM lines of /proc/PID/status, in
// bytes.
func memStatus(pid int) (anon, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, _ := bytes.Cut(sc.Bytes(), []byte(":"))
		var into *int64
		switch string(name) {
		case "RssAnon":
			into = &anon
		case "VmHWM":
			into = &hwm
		default:
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
		*into = kb * 1024
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("/proc/%d/status has no RssAnon and VmHWM lines (the benchmark reads memory as Linux reports it)", pid)
	}
	return anon, hwm, nil
}
