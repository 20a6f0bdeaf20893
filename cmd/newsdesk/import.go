package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/internal/atomicfile"
	"github.com/newsdesk/newsdesk/opml"
)

// cmdImport adds the feeds of another reader's OPML export to feeds.yaml.
//
// feeds.yaml is edited as text, not re-encoded: the new sources are
// inserted after the last item of the top-level sources list, so every
// comment and blank line the operator wrote stays as it was. The YAML tree
// is only used to find where that list ends and how it is indented. The
// file is checked without its secrets (config.AnyEnv): an import needs
// none, and `check` names the variables that are not set.
func cmdImport(ctx context.Context, e *env, args []string) error {
	fs, configPath := e.flags("import")
	dryRun := fs.Bool("dry-run", false, "print the YAML that would be added and what would be skipped, without changing feeds.yaml")
	file, err := parseOneArg(fs, args, "FILE.opml")
	if err != nil {
		return err
	}

	doc, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read OPML: %w", err)
	}
	feeds, err := opml.Parse(file, doc)
	if err != nil {
		return err
	}
	if len(feeds) == 0 {
		return fmt.Errorf("%s lists no feeds: none of its <outline> elements has an xmlUrl", file)
	}

	path := *configPath
	data, dir, list, err := e.readSources(path)
	if err != nil {
		return err
	}

	plan := list.Plan(candidates(feeds))
	for _, n := range plan.Notes {
		fmt.Fprintf(e.stderr, "%s:%s\n", file, n)
	}

	insert := list.Render(plan.Add, filepath.Base(file))
	out := list.Insert(data, insert)
	var cfg *config.Config
	if len(plan.Add) > 0 {
		cfg, err = config.ParseEnv(path, dir, out, config.AnyEnv)
		if err != nil {
			// Problems the file already had are the operator's to fix, at
			// lines that are right in the file as it is.
			if _, perr := config.ParseEnv(path, dir, data, config.AnyEnv); perr != nil {
				return e.refuse(path, perr)
			}
			var ps config.Problems
			if !errors.As(err, &ps) {
				return err
			}
			for _, p := range ps {
				p.Path += " (with the import)"
				fmt.Fprintln(e.stderr, p)
			}
			fmt.Fprintf(e.stderr, "newsdesk: the import would make %s invalid, so nothing was written; this is a bug in newsdesk import, please report it\n", path)
			return errReported
		}
	}

	if *dryRun {
		e.stdout.Write(insert)
		where := "at the end"
		if list.AfterLine > 0 {
			where = fmt.Sprintf("after line %d", list.AfterLine)
		}
		fmt.Fprintf(e.stderr, "dry run: would import %s, %s; nothing was written\n", plan.Summary(path), where)
		if cfg != nil {
			fmt.Fprint(e.stderr, cfg.UnpublishedNote(plan.Add))
		}
		return nil
	}
	summary := "imported " + plan.Summary(path)
	if len(plan.Add) == 0 {
		fmt.Fprintf(e.stdout, "%s; %s is unchanged\n", summary, path)
		return nil
	}
	if err := writeFileAtomic(path, data, out); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, summary)
	fmt.Fprint(e.stdout, cfg.UnpublishedNote(plan.Add))
	return nil
}

// readSources reads feeds.yaml at path as text, with the folder its paths
// are relative to and where its sources list ends. A file the YAML library
// cannot read is refused with the same words as 'newsdesk check'.
func (e *env) readSources(path string) (data []byte, dir string, list *config.SourcesList, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("read config: %w (give another file with -config PATH)", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("read config: %w", err)
	}
	dir = filepath.Dir(abs)
	list, err = config.FindSources(data)
	if err != nil {
		if _, perr := config.ParseEnv(path, dir, data, config.AnyEnv); perr != nil {
			return nil, "", nil, e.refuse(path, perr)
		}
		return nil, "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, dir, list, nil
}

// refuse prints the problems feeds.yaml already has, one per line, and
// fails the import.
func (e *env) refuse(path string, err error) error {
	var ps config.Problems
	if !errors.As(err, &ps) {
		return err
	}
	for _, p := range ps {
		fmt.Fprintln(e.stderr, p)
	}
	fmt.Fprintf(e.stderr, "newsdesk: %s has %s; fix %s and import again ('newsdesk check' lists them); nothing was written\n", path, plural(len(ps), "problem"), pronoun(len(ps)))
	return errReported
}

// writeFileAtomic replaces the file at path, which held old, with data: a
// temporary file in the same folder with the same mode is renamed over it,
// so a crash leaves the old file or the new one, never half of one. A
// symbolic link is followed and the file it points to replaced.
func writeFileAtomic(path string, old, data []byte) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := atomicfile.Create(real)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(fi.Mode().Perm())
	}
	if err != nil {
		f.Discard()
		return fmt.Errorf("write %s: %w", path, err)
	}
	// An editor may have saved the file while the OPML was read.
	changed := fmt.Errorf("%s changed while importing; nothing was written: run the import again", path)
	err = f.CommitIf(func() error {
		if now, err := os.ReadFile(real); err != nil || !bytes.Equal(now, old) {
			return changed
		}
		return nil
	})
	if err != nil && err != changed {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return err
}

// candidates are the feeds of an OPML file as config plans an import.
func candidates(feeds []opml.Feed) []config.Candidate {
	out := make([]config.Candidate, len(feeds))
	for i, f := range feeds {
		out[i] = config.Candidate(f)
	}
	return out
}
