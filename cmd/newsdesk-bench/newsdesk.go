package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// buildNewsdesk builds cmd/newsdesk into dir and returns the binary's path.
// It needs the go command and this module's source: run the benchmark from
// inside the repository.
func buildNewsdesk(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "newsdesk")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/newsdesk/newsdesk/cmd/newsdesk")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build newsdesk (run the benchmark from inside the repository, or give -newsdesk PATH): %v\n%s", err, out)
	}
	return bin, nil
}

// runPass runs `newsdesk run -force` on config and measures the child: wall
// time, user+system CPU, peak anonymous memory (RssAnon, sampled) and
// peak resident memory (VmHWM: it counts bbolt's file-backed mapping as
// well as heap and stacks).
func runPass(ctx context.Context, bin, config string) (measure, string, error) {
	cmd := exec.CommandContext(ctx, bin, "run", "-force", "-config", config)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measure{}, "", fmt.Errorf("newsdesk run -force: %w", err)
	}
	anon := sampleAnon(cmd.Process.Pid)
	err := cmd.Wait()
	wall := time.Since(start)
	m := childMeasure(cmd.ProcessState, anon)
	m.wall = wall
	if err != nil {
		return measure{}, "", fmt.Errorf("newsdesk run -force: %v\n%s%s", err, stdout.String(), lastLines(stderr.String(), 20))
	}
	return m, strings.TrimSpace(stdout.String()), nil
}

// childMeasure is what a child that has ended used: its CPU and the peaks
// of memory anon saw.
func childMeasure(ps *os.ProcessState, anon *anonSampler) measure {
	m := measure{cpu: ps.UserTime() + ps.SystemTime()}
	m.anon, m.maxRSS, m.hasAnon = anon.end()
	return m
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
