package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The scripts' commands for the attacks of issue 9: kills in the middle of
// a command, and a full disk.

// cmdKillMid: killmid GLOB PROGRAM [ARGS...]
// Runs PROGRAM and kills it with SIGKILL while a file matching GLOB exists
// (a temporary file it works on): it waits for one to appear, stops the
// program (SIGSTOP) and, if one is still there, kills it then; when the
// program got past that step first, it lets it finish and runs it again,
// up to 20 times. Prints the files matching GLOB at the kill.
func cmdKillMid(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: killmid GLOB PROGRAM [ARGS...]")
	}
	glob := ts.MkAbs(args[0])
	path, err := exec.LookPath(args[1])
	ts.Check(err)
	matches := func() []string {
		m, err := filepath.Glob(glob)
		ts.Check(err)
		return m
	}
	if m := matches(); len(m) > 0 {
		ts.Fatalf("killmid: %s exists before %s starts", strings.Join(m, ", "), args[1])
	}
	for attempt := 1; attempt <= 20; attempt++ {
		cmd := exec.Command(path, args[2:]...)
		cmd.Dir = ts.MkAbs(".")
		cmd.Env = scriptEnv(ts)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		ts.Check(cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		killed := false
	poll:
		for wait := 100 * time.Microsecond; ; wait = min(2*wait, 5*time.Millisecond) {
			select {
			case err := <-exited:
				if err != nil {
					ts.Fatalf("killmid: %s failed: %v\n%s", args[1], err, out.String())
				}
				break poll // finished before a temporary was seen
			default:
			}
			if len(matches()) == 0 {
				time.Sleep(wait) // polling a real condition: the temporary file appearing
				continue
			}
			// Frozen, it cannot rename or remove the file while we look.
			ts.Check(cmd.Process.Signal(syscall.SIGSTOP))
			if m := matches(); len(m) > 0 {
				ts.Check(cmd.Process.Signal(syscall.SIGKILL))
				<-exited
				rel := make([]string, len(m))
				for i, f := range m {
					rel[i], _ = filepath.Rel(ts.MkAbs("."), f)
				}
				fmt.Fprintf(ts.Stdout(), "killed %s while %s existed (attempt %d)\n", args[1], strings.Join(rel, ", "), attempt)
				killed = true
			} else {
				ts.Check(cmd.Process.Signal(syscall.SIGCONT))
				<-exited
			}
			break
		}
		if killed {
			return
		}
		ts.Logf("attempt %d: %s finished before it could be killed mid-way: %s", attempt, args[1], out.String())
	}
	ts.Fatalf("killmid: %s finished every time before it could be killed while %s existed", args[1], args[0])
}

// scriptEnv is the environment of a program a command of the script runs.
func scriptEnv(ts *testscript.TestScript) []string {
	env := os.Environ()
	for _, k := range []string{"HOME", "TMPDIR", "WORK", "ORIGIN", "PORT", "PATH"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

// cmdGlob: [!] glob PATTERN
// Succeeds when a file matches PATTERN (with !, when none does), and
// prints the matches.
func cmdGlob(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] glob PATTERN")
	}
	m, err := filepath.Glob(ts.MkAbs(args[0]))
	ts.Check(err)
	for _, f := range m {
		fmt.Fprintln(ts.Stdout(), filepath.Base(f))
	}
	if (len(m) > 0) == neg {
		ts.Fatalf("glob %s: %d matches (%s)", args[0], len(m), strings.Join(m, ", "))
	}
}

// cmdMkFeed: mkfeed FILE N
// Writes an RSS feed of N items of about 1 KiB each to FILE, newest first,
// a minute apart.
func cmdMkFeed(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: mkfeed FILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<rss version=\"2.0\"><channel><title>Big</title><link>https://big.example/</link>\n")
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "<item><guid>https://big.example/%d</guid><title>Big story %d</title><link>https://big.example/%d</link><pubDate>%s</pubDate><description>%s</description></item>\n",
			i, i, i, t0.Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z), strings.Repeat("A sentence of a long story. ", 36))
	}
	b.WriteString("</channel></rss>\n")
	file := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(file), 0o755))
	ts.Check(os.WriteFile(file, []byte(b.String()), 0o644))
}

// cmdDiskFull: [!] diskfull FILE PROGRAM [ARGS...]
// Runs PROGRAM as if the disk filled up at FILE's current size: with
// RLIMIT_FSIZE (ulimit -f) set to it, a write past that offset, to any
// file, fails with EFBIG as one to a full disk fails with ENOSPC (Go
// programs ignore the SIGXFSZ that comes with it). Writes within the
// file's present size, as on a full disk, still succeed.
func cmdDiskFull(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: [!] diskfull FILE PROGRAM [ARGS...]")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	// POSIX sh counts ulimit -f in 512-byte blocks (dash, and bash as sh).
	blocks := fi.Size() / 512
	script := fmt.Sprintf(`ulimit -f %d || exit 125; exec "$@"`, blocks)
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh"}, args[1:]...)...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnv(ts)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	ts.Stdout().Write(stdout.Bytes())
	ts.Stderr().Write(stderr.Bytes())
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 125 {
		ts.Fatalf("diskfull: ulimit -f failed (check the [fsizelimit] condition first): %s", stderr.String())
	}
	if (err != nil) != neg {
		ts.Fatalf("diskfull %s: %v", strings.Join(args[1:], " "), err)
	}
}

// canLimitFileSize reports whether diskfull works here: /bin/sh can set
// RLIMIT_FSIZE for the program it runs.
func canLimitFileSize() bool {
	return exec.Command("/bin/sh", "-c", "ulimit -f 1").Run() == nil
}
