package main

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/opml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// insertFeeds is what cmdImport does to the text of feeds.yaml.
func insertFeeds(t testing.TB, cfg string, feeds []opml.Feed) (string, config.Plan) {
	t.Helper()
	l, err := config.FindSources([]byte(cfg))
	if err != nil {
		t.Fatalf("FindSources() error = %v", err)
	}
	plan := l.Plan(candidates(feeds))
	return string(l.Insert([]byte(cfg), l.Render(plan.Add, "x.opml"))), plan
}

// checkOnlyInserted fails unless got is old with whole lines inserted at
// one place.
func checkOnlyInserted(t testing.TB, old, got string) {
	t.Helper()
	n := len(got) - len(old)
	for i := 0; n >= 0 && i <= len(old); i++ {
		atLine := i == 0 || i == len(old) || old[i-1] == '\n' || old[i-1] == '\r' && old[i] != '\n'
		if atLine && got[:i] == old[:i] && got[i+n:] == old[i:] {
			return
		}
	}
	t.Errorf("the import changed the file instead of inserting lines into it:\n--- before\n%s\n--- after\n%s", old, got)
}

// runImport runs the newsdesk command line in this process.
func runImport(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestImportGolden imports a Feedly export into a copy of the shipped
// feeds.yaml: every byte of it stays, the sources are inserted at the end
// of the sources list, and the file is still valid.
func TestImportGolden(t *testing.T) {
	orig, err := os.ReadFile("testdata/opml/feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(cfgFile, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runImport(t, "import", "-config", cfgFile, "testdata/opml/feedly.opml")
	if code != 0 {
		t.Fatalf("newsdesk import: exit %d, stderr:\n%s", code, stderr)
	}
	got, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/opml/feeds-feedly.yaml.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("feeds.yaml after the import =\n%s\nwant (%s; go test -run TestImportGolden -update rewrites it)\n%s", got, golden, want)
	}
	checkOnlyInserted(t, string(orig), string(got))
	if _, err := config.Load(cfgFile); err != nil {
		t.Errorf("config.Load() after the import: %v", err)
	}
	wantOut := "imported 4 sources (1 skipped: already present 1, not http(s) 0) into " + cfgFile + "\n" +
		"they are in no section yet: add them to a section's sources or tags to publish them (their tags: must-read, news, tech)\n"
	if stdout != wantOut {
		t.Errorf("stdout =\n%s\nwant\n%s", stdout, wantOut)
	}
}

func TestImportCommand(t *testing.T) {
	shipped, err := os.ReadFile("testdata/opml/feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	feedly := "testdata/opml/feedly.opml"
	setup := func(t *testing.T, content []byte, mode os.FileMode) string {
		cfgFile := filepath.Join(t.TempDir(), "feeds.yaml")
		if err := os.WriteFile(cfgFile, content, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(cfgFile, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return cfgFile
	}
	unchanged := func(t *testing.T, cfgFile string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s changed:\n%s", cfgFile, got)
		}
		entries, _ := os.ReadDir(filepath.Dir(cfgFile))
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	}

	t.Run("keeps the file mode and leaves no temporary file", func(t *testing.T) {
		cfgFile := setup(t, shipped, 0o640)
		if code, _, stderr := runImport(t, "import", "-config", cfgFile, feedly); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		fi, err := os.Stat(cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("mode after import = %v, want 0640", fi.Mode().Perm())
		}
		got, _ := os.ReadFile(cfgFile)
		unchanged(t, cfgFile, got)
	})

	t.Run("flags after the file, dry run", func(t *testing.T) {
		cfgFile := setup(t, shipped, 0o644)
		code, stdout, stderr := runImport(t, "import", feedly, "-dry-run", "-config", cfgFile)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		unchanged(t, cfgFile, shipped)
		if !strings.HasPrefix(stdout, "  # Imported from feedly.opml by newsdesk import.\n  - id: the-verge\n") {
			t.Errorf("dry run stdout =\n%s\nwant the YAML to insert", stdout)
		}
		for _, want := range []string{
			`feedly.opml:14: skip "The Moscow Times" (https://www.themoscowtimes.com/rss/news/): already in feeds.yaml as source "moscow-times"`,
			"dry run: would import 4 sources (1 skipped: already present 1, not http(s) 0) into " + cfgFile + ", after line 23; nothing was written",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("dry run stderr =\n%s\nwant a line %q", stderr, want)
			}
		}
	})

	t.Run("second import changes nothing", func(t *testing.T) {
		cfgFile := setup(t, shipped, 0o644)
		runImport(t, "import", "-config", cfgFile, feedly)
		once, _ := os.ReadFile(cfgFile)
		code, stdout, _ := runImport(t, "import", "-config", cfgFile, feedly)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		unchanged(t, cfgFile, once)
		if want := "imported 0 sources (5 skipped: already present 5, not http(s) 0) into " + cfgFile + "; " + cfgFile + " is unchanged\n"; stdout != want {
			t.Errorf("stdout = %q, want %q", stdout, want)
		}
	})

	t.Run("follows a symbolic link", func(t *testing.T) {
		cfgFile := setup(t, shipped, 0o644)
		link := filepath.Join(t.TempDir(), "feeds.yaml")
		if err := os.Symlink(cfgFile, link); err != nil {
			t.Skip("no symbolic links here:", err)
		}
		if code, _, stderr := runImport(t, "import", "-config", link, feedly); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link", link)
		}
		if got, _ := os.ReadFile(cfgFile); !bytes.Contains(got, []byte("id: the-verge")) {
			t.Errorf("the link's target was not imported into:\n%s", got)
		}
	})

	t.Run("refuses a config that already has problems", func(t *testing.T) {
		broken := []byte("sources:\n  - id: a\n    url: https://a.example/\nsections:\n  - id: s\n    sources: [b]\n")
		cfgFile := setup(t, broken, 0o644)
		code, stdout, stderr := runImport(t, "import", "-config", cfgFile, feedly)
		if code != exitError {
			t.Errorf("exit %d, want %d", code, exitError)
		}
		unchanged(t, cfgFile, broken)
		for _, want := range []string{
			cfgFile + `:6:15: section "s": unknown source "b"`,
			cfgFile + " has 1 problem; fix it and import again ('newsdesk check' lists them); nothing was written",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr =\n%s\nwant %q", stderr, want)
			}
		}
		if stdout != "" {
			t.Errorf("stdout = %q, want nothing", stdout)
		}
	})

	t.Run("adds a sources list and publishes by tag", func(t *testing.T) {
		orig := []byte("# Sections first; the sources come from an OPML file.\nsections:\n  - id: tech\n    tags: [tech]\n")
		cfgFile := setup(t, orig, 0o644)
		code, stdout, stderr := runImport(t, "import", "-config", cfgFile, feedly)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		got, _ := os.ReadFile(cfgFile)
		checkOnlyInserted(t, string(orig), string(got))
		cfg, err := config.Load(cfgFile)
		if err != nil {
			t.Fatalf("config.Load() = %v", err)
		}
		if want := []string{"the-verge", "hacker-news"}; !slices.Equal(cfg.Sections[0].Sources, want) {
			t.Errorf("section tech sources = %q, want %q", cfg.Sections[0].Sources, want)
		}
		if want := "3 of them are in no section yet: add them to a section's sources or tags to publish them (their tags: must-read, news)\n"; !strings.HasSuffix(stdout, want) {
			t.Errorf("stdout =\n%s\nwant it to end with %q", stdout, want)
		}
	})

	t.Run("malformed OPML", func(t *testing.T) {
		cfgFile := setup(t, shipped, 0o644)
		code, _, stderr := runImport(t, "import", "-config", cfgFile, "testdata/opml/broken.opml")
		if code != exitError || !strings.Contains(stderr, "newsdesk import: testdata/opml/broken.opml:7: malformed OPML: element <outline> closed by </body>") {
			t.Errorf("exit %d, stderr %q; want 1 and the file and line", code, stderr)
		}
		unchanged(t, cfgFile, shipped)
	})

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"import"}, {"import", "a.opml", "b.opml"}, {"import", "-nope", "a.opml"}} {
			if code, _, stderr := runImport(t, args...); code != exitUsage {
				t.Errorf("newsdesk %s: exit %d (stderr %q), want %d", strings.Join(args, " "), code, stderr, exitUsage)
			}
		}
	})
}

// importCorpusConfig is a valid feeds.yaml for corpus imports to go into.
const importCorpusConfig = "sources:\n  - id: existing\n    url: https://existing.example/feed\nsections:\n  - id: all\n    sources: [existing]\n"

// TestImportCorpora parses the OPML files of other projects' test suites
// (in ../shared/corpora beside the repository) and checks that whatever
// imports from them gives a valid feeds.yaml.
func TestImportCorpora(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "corpora")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: the shared test corpora are not at %s (%v)", root, err)
	}
	var n int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := strings.ToLower(filepath.Ext(path))
		if ext != ".opml" && ext != ".xml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if ext == ".xml" && !bytes.Contains(data[:min(len(data), 4096)], []byte("<opml")) {
			return nil
		}
		n++
		feeds, err := opml.Parse(path, data)
		if err != nil {
			t.Logf("%v", err) // some are broken on purpose
			return nil
		}
		if len(feeds) == 0 {
			return nil
		}
		got, plan := insertFeeds(t, importCorpusConfig, feeds)
		if _, err := config.Parse(path, ".", []byte(got)); err != nil {
			t.Errorf("%s: importing it gives an invalid config: %v\n%s", path, err, got)
		}
		t.Logf("%s: %s", path, plan.Summary("feeds.yaml"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no OPML files found under %s", root)
	}
}
