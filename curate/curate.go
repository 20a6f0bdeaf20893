// Package curate is what an editor sees of a section and of the items they
// point at: the ids they may type (Resolve), why an item is shown (Why) and
// why it is kept or dropped (Explain). It decides nothing the section's rules
// do not (newsdesk.Section.Keeps) and writes nothing: commands fetch what it
// needs from the store and record the editor's decisions.
package curate

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Items is what Resolve reads of the store: a source's items, in any order,
// until fn returns false.
type Items interface {
	Items(sourceID string, fn func(newsdesk.Item) bool) error
}

// Resolve finds the item an editor means among the section's sources:
// SOURCE:HASH (as preview shows it, a prefix of at least 6 hex digits), the
// HASH prefix alone (looked up in every source of the section), the item's
// urn:newsdesk: id from a feed, SOURCE/ID, or the item's own id or link.
func Resolve(db Items, sec *newsdesk.Section, arg string) (newsdesk.Item, error) {
	return resolve(db, sec.Sources, fmt.Sprintf("section %q", sec.ID), fmt.Sprintf("see 'newsdesk preview %s' for ids", sec.ID), arg)
}

// ResolveInSource is Resolve among the items of one source.
func ResolveInSource(db Items, sourceID, arg string) (newsdesk.Item, error) {
	return resolve(db, []string{sourceID}, fmt.Sprintf("source %q", sourceID), "give its link, its id as a feed shows it, or SOURCE:HASH", arg)
}

// resolve finds arg among the items of sources; where names them and hint
// says how to find an id, for the errors.
func resolve(db Items, sources []string, where, hint, arg string) (newsdesk.Item, error) {
	arg = strings.TrimSpace(arg)
	src, rest, hasSrc := newsdesk.ParseItemID(arg)
	if !hasSrc {
		src, rest = "", strings.ToLower(arg) // a bare hash: any source
	}
	isHash := len(rest) >= 6 && strings.Trim(rest, "0123456789abcdef") == ""
	var matches []newsdesk.Item
	for _, id := range sources {
		if isHash && src != "" && id != src {
			continue
		}
		err := db.Items(id, func(it newsdesk.Item) bool {
			ref := it.Ref()
			if isHash && strings.HasPrefix(ref.Hash(), rest) ||
				arg == id+"/"+it.ID || arg == it.ID || arg == it.Link {
				matches = append(matches, it)
			}
			return len(matches) < maxMatches
		})
		if err != nil {
			return newsdesk.Item{}, err
		}
		if len(matches) == maxMatches {
			break
		}
	}
	switch len(matches) {
	case 0:
		return newsdesk.Item{}, fmt.Errorf("no item %q among the items of %s (%s)", arg, where, hint)
	case 1:
		return matches[0], nil
	}
	var refs []string
	for _, m := range matches {
		refs = append(refs, fmt.Sprintf("%s %q", m.Ref().Short(), Truncate(m.Title, 40)))
	}
	count := fmt.Sprint(len(matches))
	if len(matches) == maxMatches {
		count = "at least " + count
	}
	return newsdesk.Item{}, fmt.Errorf("%q matches %s items of %s: %s; give more of the id, or SOURCE:HASH", arg, count, where, strings.Join(refs, ", "))
}

// maxMatches is how many candidates an ambiguous item reference lists.
const maxMatches = 10

// Why says why a shown item is in the section, for preview: pinned, the
// rule that admitted it, or that the section has no rules; and how many
// duplicates from other sources it stands for.
func Why(sec *newsdesk.Section, it *newsdesk.Item, pinned bool, now time.Time) string {
	why := "no rules: every item"
	switch {
	case pinned:
		why = "pinned"
	default:
		if _, rule := sec.Keeps(it, now); rule != "" {
			why = rule
		}
	}
	switch n := len(it.Duplicates); {
	case n == 1:
		why += " (+1 duplicate)"
	case n > 1:
		why += fmt.Sprintf(" (+%d duplicates)", n)
	}
	return why
}

// Decision is an editor's decision about an item in a section.
type Decision struct {
	Decision newsdesk.Decision
	At       time.Time
}

// Explain writes to w why the section keeps or drops it: an editor's
// decision (nil when there is none), else the rule that admits or drops
// it, and where it stands among the items the section shows now, which
// shown reads only when the rules keep it.
func Explain(w io.Writer, sec *newsdesk.Section, it newsdesk.Item, decided *Decision, shown func() ([]newsdesk.Item, error), now time.Time) error {
	ref := it.Ref()
	fmt.Fprintf(w, "%s %q (%s, published %s)\n", ref.Short(), it.Title, it.SourceID, it.Published.Local().Format("2006-01-02 15:04"))
	if decided != nil {
		switch decided.Decision {
		case newsdesk.Hide:
			fmt.Fprintf(w, "dropped: hidden by an editor on %s ('newsdesk unhide %s %s' shows it again)\n", decided.At.Local().Format("2006-01-02 15:04"), sec.ID, ref.Short())
			return nil
		case newsdesk.Pin:
			fmt.Fprintf(w, "kept: pinned by an editor on %s, shown first whatever the rules say\n", decided.At.Local().Format("2006-01-02 15:04"))
			return nil
		}
	}
	kept, rule := sec.Keeps(&it, now)
	switch {
	case !kept:
		if rule == "no include rule matched" {
			var texts []string
			for _, r := range sec.Include {
				texts = append(texts, r.Text)
			}
			rule += " (include: " + strings.Join(texts, ", ") + ")"
		}
		fmt.Fprintf(w, "dropped: %s\n", rule)
		return nil
	case rule == "":
		fmt.Fprintln(w, "kept: the section has no include rules and no exclude rule matched")
	default:
		fmt.Fprintf(w, "kept: matches %s\n", strings.TrimPrefix(rule, "include "))
	}
	items, err := shown()
	if err != nil {
		return err
	}
	for i, s := range items {
		if s.Ref() == ref {
			fmt.Fprintf(w, "in the section now, at %d of %d\n", i+1, len(items))
			return nil
		}
		if slices.Contains(s.Duplicates, ref) {
			fmt.Fprintf(w, "not shown: the same story as %s %q, which newsdesk saw first\n", s.Ref().Short(), s.Title)
			return nil
		}
	}
	fmt.Fprintf(w, "not shown: older than the section's newest %d items (limit), or the same story as an item shown from another source\n", sec.Query(now).Limit)
	return nil
}

// Truncate cuts s to at most n characters, the last an ellipsis when cut.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
