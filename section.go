package newsdesk

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
)

// Section is a curated feed that newsdesk republishes: the items of some
// sources, filtered by rules, newest first.
type Section struct {
	ID          string
	Title       string
	Description string
	// Sources are the ids of every source that feeds the section: those named
	// in its `sources` and those carrying any of its `tags`, in config order.
	Sources []string
	Include []Rule // keep an item matching any of these (all, when empty)
	Exclude []Rule // drop an item matching any of these
	Limit   int    // newest N items
	// DedupeTitles collapses near-identical titles from different sources
	// published within 48 hours of each other (feeds.yaml: dedupe: titles).
	// Items with the same canonical link are always collapsed.
	DedupeTitles bool
	// MaxAge drops items published longer ago than this; zero keeps all.
	MaxAge time.Duration
	// Token makes the section private: its feeds answer only to requests
	// carrying ?token=Token. Empty: public.
	Token string
}

// Query selects the items of a section from the store.
type Query struct {
	// SectionID names the section whose editorial decisions (pinned and
	// hidden items) apply; empty: none.
	SectionID string
	Sources   []string
	// Keep, when set, is the section's rules: items it rejects are skipped,
	// and are not candidates when duplicates are collapsed.
	Keep         func(*Item) bool
	Limit        int
	DedupeTitles bool
}

// Query is the store query for the section's items at time now (which
// max_age counts back from).
func (s *Section) Query(now time.Time) Query {
	limit := s.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return Query{
		SectionID:    s.ID,
		Sources:      s.Sources,
		Keep:         func(it *Item) bool { ok, _ := s.Keeps(it, now); return ok },
		Limit:        limit,
		DedupeTitles: s.DedupeTitles,
	}
}

// Keeps reports whether the section keeps the item at time now, and the
// rule that decided: the section's include/exclude rules (Admit) and its
// max_age.
func (s *Section) Keeps(it *Item, now time.Time) (bool, string) {
	if s.MaxAge > 0 && it.Published.Before(now.Add(-s.MaxAge)) {
		return false, "older than max_age " + s.MaxAge.String()
	}
	return s.Admit(it)
}

// DefaultLimit is a section's limit when feeds.yaml gives none.
const DefaultLimit = 50

// Admit reports whether the section keeps the item, and the rule that decided
// it: the first include rule that matched, or the exclude rule that dropped
// it. The rule is empty when there are no include rules and nothing excluded.
func (s *Section) Admit(it *Item) (bool, string) {
	for _, r := range s.Exclude {
		if r.Match(it) {
			return false, "exclude " + r.Text
		}
	}
	if len(s.Include) == 0 {
		return true, ""
	}
	for _, r := range s.Include {
		if r.Match(it) {
			return true, "include " + r.Text
		}
	}
	return false, "no include rule matched"
}

// Rule is one include or exclude rule of a section. Its text is a plain word
// or phrase, matched case-insensitively on whole words (Unicode-aware, so
// Cyrillic works), or a Go regular expression between slashes. A prefix
// "title:", "summary:", "content:", "category:", "author:" or "link:" limits
// the rule to that field; without one it matches the title, summary, content
// and categories.
type Rule struct {
	Text  string // as written in feeds.yaml
	Field string // empty: title, summary, content and categories
	re    *regexp.Regexp
}

// ruleFields are the field names a rule may be scoped to.
var ruleFields = []string{"title", "summary", "content", "category", "author", "link"}

// ParseRule compiles a rule as written in feeds.yaml.
func ParseRule(text string) (Rule, error) {
	r := Rule{Text: text}
	body := text
	for _, f := range ruleFields {
		if rest, ok := strings.CutPrefix(text, f+":"); ok {
			r.Field, body = f, rest
			break
		}
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return Rule{}, fmt.Errorf("empty rule %q: write a word, a phrase or /regexp/", text)
	}
	if len(body) >= 2 && body[0] == '/' && body[len(body)-1] == '/' {
		re, err := regexp.Compile(body[1 : len(body)-1])
		if err != nil {
			return Rule{}, fmt.Errorf("bad regular expression %s: %v", body, errorDetail(err))
		}
		r.re = re
		return r, nil
	}
	// A plain word or phrase: whole words, any case, any run of white space
	// between the words. Go's \b knows only ASCII, so word edges are spelled
	// out with Unicode classes.
	words := strings.Fields(body)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	const edge = `[^\p{L}\p{N}_]`
	r.re = regexp.MustCompile(`(?i)(?:^|` + edge + `)` + strings.Join(words, `\s+`) + `(?:$|` + edge + `)`)
	return r, nil
}

// errorDetail drops the "error parsing regexp: " prefix, which the caller's
// message already says.
func errorDetail(err error) string {
	if e, ok := err.(*syntax.Error); ok {
		return fmt.Sprintf("%s: `%s`", e.Code, e.Expr)
	}
	return err.Error()
}

// Match reports whether the rule matches the item.
func (r Rule) Match(it *Item) bool {
	if r.re == nil {
		return false
	}
	for _, text := range r.fields(it) {
		if text != "" && r.re.MatchString(text) {
			return true
		}
	}
	return false
}

func (r Rule) fields(it *Item) []string {
	switch r.Field {
	case "title":
		return []string{it.Title}
	case "summary":
		return []string{HTMLText(it.Summary)}
	case "content": // the article when the store holds one (Body)
		return []string{HTMLText(it.Body())}
	case "category":
		return it.Categories
	case "author":
		var names []string
		for _, a := range it.Authors {
			names = append(names, a.Name, a.Email)
		}
		return names
	case "link":
		return []string{it.Link}
	}
	return append([]string{it.Title, HTMLText(it.Summary), HTMLText(it.Body())}, it.Categories...)
}
