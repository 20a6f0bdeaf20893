// Package deploy_test checks the deployment files in this folder: the
// systemd unit, the crontab and the nginx server block. It has no code of its
// own to test; the files are what an operator copies, so a typo in them is a
// bug that only shows on a production machine. Checks that need a tool
// (systemd-analyze, nginx) are skipped, saying so, where the tool is missing.
package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/robfig/cron/v3"
)

const (
	unitFile    = "newsdesk.service"
	crontabFile = "crontab"
	nginxFile   = "nginx.conf"

	// installedBinary is where the unit and the crontab expect newsdesk.
	installedBinary = "/usr/local/bin/newsdesk"
)

// unit is a parsed systemd unit file: section -> key -> the values of every
// assignment of that key, in order (systemd keys such as Environment= may be
// repeated, and an empty assignment resets a list).
type unit map[string]map[string][]string

// last returns the value of the last assignment of key in section.
func (u unit) last(section, key string) (string, bool) {
	vs := u[section][key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// parseUnit reads a unit file in systemd's INI-like syntax (systemd.syntax(7)):
// [Section] headers, Key=Value assignments, # and ; comments, and lines
// continued with a trailing backslash.
func parseUnit(data []byte) (unit, error) {
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	n, pending, pendingLine := 0, "", 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			if pending == "" {
				pendingLine = n
			}
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		at := n
		if pending != "" {
			line, at, pending = pending+line, pendingLine, ""
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: bad section header %q", at, line)
			}
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not Key=Value", at, line)
		}
		if section == "" {
			return nil, fmt.Errorf("line %d: %q is outside a [Section]", at, line)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		u[section][key] = append(u[section][key], value)
	}
	if pending != "" {
		return nil, fmt.Errorf("line %d: the file ends in a continued line", pendingLine)
	}
	return u, sc.Err()
}

func readUnit(t *testing.T) unit {
	t.Helper()
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	u, err := parseUnit(data)
	if err != nil {
		t.Fatalf("%s: %v", unitFile, err)
	}
	return u
}

func TestUnitHardening(t *testing.T) {
	u := readUnit(t)
	tests := []struct {
		section, key, want string
	}{
		{"Service", "ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Service", "KillSignal", "SIGTERM"},
		{"Service", "TimeoutStopSec", "30s"},
		{"Service", "Restart", "on-failure"},
		{"Service", "RestartSec", "5s"},
		{"Service", "EnvironmentFile", "-/etc/newsdesk/env"},
		{"Service", "DynamicUser", "yes"},
		{"Service", "StateDirectory", "newsdesk"},
		{"Service", "ConfigurationDirectory", "newsdesk"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "CapabilityBoundingSet", ""},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "PrivateDevices", "yes"},
		{"Service", "ProtectKernelTunables", "yes"},
		{"Service", "ProtectKernelModules", "yes"},
		{"Service", "ProtectKernelLogs", "yes"},
		{"Service", "ProtectControlGroups", "yes"},
		{"Service", "RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"Service", "RestrictNamespaces", "yes"},
		{"Service", "LockPersonality", "yes"},
		{"Service", "MemoryDenyWriteExecute", "yes"},
		{"Service", "SystemCallFilter", "@system-service"},
		{"Service", "SystemCallArchitectures", "native"},
		{"Install", "WantedBy", "multi-user.target"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := u.last(tt.section, tt.key)
			if !ok {
				t.Fatalf("[%s] %s= is missing, want %s=%s", tt.section, tt.key, tt.key, tt.want)
			}
			if got != tt.want {
				t.Errorf("[%s] %s=%s, want %s=%s", tt.section, tt.key, got, tt.key, tt.want)
			}
		})
	}
}

func TestUnitExecStart(t *testing.T) {
	u := readUnit(t)
	execStart, ok := u.last("Service", "ExecStart")
	if !ok {
		t.Fatal("[Service] ExecStart= is missing")
	}
	args := strings.Fields(execStart)
	if len(args) < 2 || args[0] != installedBinary || args[1] != "serve" {
		t.Fatalf("ExecStart=%s, want %s serve ...", execStart, installedBinary)
	}
	// The config must be in ConfigurationDirectory: with ProtectSystem=strict
	// and DynamicUser nothing else under /etc is promised to be readable, and
	// the default (feeds.yaml in the working directory, /) is not there.
	confDir, _ := u.last("Service", "ConfigurationDirectory")
	if got, want := flagValue(args, "config"), "/etc/"+confDir+"/feeds.yaml"; got != want {
		t.Errorf("ExecStart -config %q, want %q", got, want)
	}
	// journald stores each line as is; JSON keeps slog's attributes
	// machine-readable (serve would pick JSON anyway without a terminal, but
	// the unit should not depend on that default).
	if got := flagValue(args, "log-format"); got != "json" {
		t.Errorf("ExecStart -log-format %q, want json", got)
	}
	checkFlags(t, args[1:], false)
}

// flagValue returns the value of -name VALUE or -name=VALUE in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// TestUnitVerify runs systemd-analyze verify on a copy of the unit whose
// ExecStart binary is /bin/true: verify insists that the binary exists, and
// this machine has no /usr/local/bin/newsdesk.
func TestUnitVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found (apt-get install systemd); skipping systemd-analyze verify of " + unitFile)
	}
	trueBin, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true binary to stand in for newsdesk in ExecStart")
	}
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte(installedBinary), []byte(trueBin))
	// The copy keeps the unit's name: verify derives the unit type from it.
	path := filepath.Join(t.TempDir(), unitFile)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	// verify exits 0 on unknown keys and bad values, only warning about
	// them, so any line about our file is a failure too.
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, unitFile) {
			t.Errorf("systemd-analyze verify: %s", strings.TrimSpace(line))
		} else {
			t.Logf("systemd-analyze verify: %s", strings.TrimSpace(line))
		}
	}
	if err != nil {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitFile, err, out)
	}

	// The exposure level sums what the unit leaves open: 0 is a fully
	// locked-down service, 10 an unconfined one (this unit: 1.6). Above 3.0
	// a hardening line was lost. --threshold counts in tenths.
	out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=30", "--no-pager", path).CombinedOutput()
	if bytes.Contains(out, []byte("unrecognized option")) {
		t.Logf("systemd-analyze security --offline is not supported by this systemd; skipping the exposure check")
		return
	}
	if m := regexp.MustCompile(`Overall exposure level for \S+: .*`).Find(out); m != nil {
		t.Log(string(m))
	}
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 3.0 (%v)\n%s", err, out)
	}
}

// cronLine is one job line of the crontab.
type cronLine struct {
	n        int    // line number
	example  bool   // a commented-out example line
	schedule string // the time fields
	command  string // the rest of the line
}

// parseCrontab returns the job lines of a user crontab (crontab(5)): five
// time fields or an @descriptor, then the command. Comments, blank lines
// and NAME=value environment lines are not jobs, but a comment that reads
// "#   FIELDS COMMAND" with COMMAND naming newsdesk is returned as an
// example, so the examples in comments are checked too.
func parseCrontab(data []byte) ([]cronLine, error) {
	env := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\s*=`)
	var lines []cronLine
	for i, text := range strings.Split(string(data), "\n") {
		text = strings.TrimSpace(text)
		example := false
		if c, ok := strings.CutPrefix(text, "#"); ok {
			// An example has five time fields (or @descriptor) then newsdesk.
			f := strings.Fields(c)
			fiveFields := len(f) > 5 && isNewsdesk(f[5])
			descriptor := len(f) > 1 && strings.HasPrefix(f[0], "@") && slices.ContainsFunc(f[1:min(len(f), 3)], isNewsdesk)
			if !fiveFields && !descriptor {
				continue
			}
			text, example = strings.TrimSpace(c), true
		}
		if text == "" || env.MatchString(text) {
			continue
		}
		f := strings.Fields(text)
		nTime := 5
		if strings.HasPrefix(f[0], "@") {
			nTime = 1
			if f[0] == "@every" {
				nTime = 2
			}
		}
		if len(f) <= nTime {
			return nil, fmt.Errorf("line %d: %q has no command after the time fields", i+1, text)
		}
		lines = append(lines, cronLine{
			n:        i + 1,
			example:  example,
			schedule: strings.Join(f[:nTime], " "),
			command:  strings.Join(f[nTime:], " "),
		})
	}
	return lines, nil
}

func isNewsdesk(word string) bool { return filepath.Base(word) == "newsdesk" }

func TestCrontab(t *testing.T) {
	data, err := os.ReadFile(crontabFile)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := parseCrontab(data)
	if err != nil {
		t.Fatalf("%s: %v", crontabFile, err)
	}
	if !slices.ContainsFunc(lines, func(l cronLine) bool { return !l.example }) {
		t.Fatalf("%s has no job line", crontabFile)
	}
	for _, l := range lines {
		name := fmt.Sprintf("line%d", l.n)
		if l.example {
			name += "_example"
		}
		t.Run(name, func(t *testing.T) {
			if _, err := cron.ParseStandard(l.schedule); err != nil {
				t.Errorf("%s:%d: time fields %q: %v", crontabFile, l.n, l.schedule, err)
			}
			// cron turns an unescaped % into a newline and feeds the rest to
			// the command's stdin.
			if strings.Contains(strings.ReplaceAll(l.command, `\%`, ""), "%") {
				t.Errorf("%s:%d: command has an unescaped %%: %q", crontabFile, l.n, l.command)
			}
			args := commandArgs(l.command)
			if len(args) < 2 || args[0] != installedBinary || args[1] != "run" {
				t.Fatalf("%s:%d: command %q, want %s run ...", crontabFile, l.n, l.command, installedBinary)
			}
			if flagValue(args, "config") == "" {
				t.Errorf("%s:%d: command %q has no -config: cron runs it in $HOME, not beside feeds.yaml", crontabFile, l.n, l.command)
			}
			checkFlags(t, args[1:], l.example)
		})
	}
}

// commandArgs splits a simple shell command into words, up to its first
// redirection, pipe or list operator.
func commandArgs(command string) []string {
	var args []string
	for _, w := range strings.Fields(command) {
		if strings.ContainsAny(w[:1], "<>|&;") || strings.HasPrefix(w, "2>") || strings.HasPrefix(w, "1>") {
			break
		}
		args = append(args, w)
	}
	return args
}

var build struct {
	once sync.Once
	path string
	err  error
}

// newsdesk builds the newsdesk command once for the tests of this package.
func newsdesk(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not found in PATH; cannot build newsdesk to check its flags")
	}
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "newsdesk-deploy-test")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "newsdesk")
		out, err := exec.Command(goBin, "build", "-o", build.path, "github.com/newsdesk/newsdesk/cmd/newsdesk").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.path != "" {
		os.RemoveAll(filepath.Dir(build.path))
	}
	os.Exit(code)
}

// checkFlags runs the real newsdesk with args (COMMAND and flags) followed by
// -h: the flag package parses every flag before it sees -h, so newsdesk exits
// 0 only when each flag exists and its value parses, without loading the
// config or touching a database. An example line may show a flag newsdesk
// does not have yet; that is a skip, not a failure.
func checkFlags(t *testing.T, args []string, example bool) {
	t.Helper()
	bin := newsdesk(t)
	cmd := exec.Command(bin, append(slices.Clone(args), "-h")...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("newsdesk %s -h: %v", strings.Join(args, " "), err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if example && strings.Contains(first, "flag provided but not defined") {
		t.Skipf("example needs a newer newsdesk: newsdesk %s: %s", strings.Join(args, " "), first)
	}
	t.Errorf("newsdesk %s -h: exit %d, want 0 (a flag is unknown or its value is bad):\n%s", strings.Join(args, " "), exit.ExitCode(), out)
}

// TestNginx runs nginx -t on the server block, included in a minimal
// nginx.conf whose pid, logs and temporary files live in a temporary folder,
// so no root or /etc/nginx is needed.
func TestNginx(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not found (apt-get install nginx); skipping nginx -t of " + nginxFile)
	}
	server, err := filepath.Abs(nginxFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "pid %s;\nerror_log stderr;\nevents {}\nhttp {\n\taccess_log off;\n", filepath.Join(dir, "nginx.pid"))
	for _, temp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "\t%s_temp_path %s;\n", temp, filepath.Join(dir, temp))
	}
	fmt.Fprintf(&b, "\tinclude %s;\n}\n", server)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nginx, "-t", "-q", "-e", "stderr", "-p", dir, "-c", conf).CombinedOutput()
	if err != nil {
		t.Errorf("nginx -t %s: %v\n%s", nginxFile, err, out)
	}
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, "[warn]") || strings.Contains(line, "[emerg]") {
			t.Errorf("nginx -t: %s", strings.TrimSpace(line))
		}
	}
}
