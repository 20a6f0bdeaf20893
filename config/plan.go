package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/newsdesk/newsdesk"
)

// What `newsdesk import` does with the feeds of an OPML file: which become
// sources, with which ids and tags, and which are skipped and why.

// Candidate is a feed offered for import: an OPML outline with an xmlUrl.
type Candidate struct {
	Title   string   // may be empty
	URL     string   // as written, trimmed
	Type    string   // the outline's type attribute: rss, or xpath for a FreshRSS scraper
	Folders []string // the enclosing folders, outermost first; read-only
	Line    int      // where it is in its file
}

// String names the candidate in messages: its title and URL.
func (c Candidate) String() string {
	if c.Title == "" {
		return strconv.Quote(shownURL(c.URL))
	}
	return fmt.Sprintf("%q (%s)", c.Title, shownURL(c.URL))
}

// Plan is what an import does with each candidate.
type Plan struct {
	Add   []newsdesk.Source // the sources to add: ID, Title, URL and Tags
	Notes []string          // "LINE: message" for each candidate skipped or merged, in file order

	present, notHTTP, notFeed int
}

// Plan decides which candidates become sources of the file l was found in,
// with which ids and tags. A feed listed in several folders (Feedly and
// Inoreader export it once per folder) becomes one source with all the
// folders' tags; one already in the file, or not http(s), is skipped with
// a note.
func (l *SourcesList) Plan(feeds []Candidate) Plan {
	var p Plan
	taken := map[string]bool{}  // ids in use
	have := map[string]string{} // normalized url -> the id of the source with it
	for _, s := range l.Sources {
		if s.ID != "" {
			taken[s.ID] = true
		}
		if s.URL != "" {
			have[newsdesk.URLKey(s.URL)] = s.ID
		}
	}
	seen := map[string]int{} // normalized url -> index in p.Add
	firstLine := map[string]int{}
	present := map[string]bool{}
	for _, f := range feeds {
		if t := strings.ToLower(f.Type); strings.Contains(t, "xpath") || strings.Contains(t, "dotnotation") {
			p.notFeed++
			p.Notes = append(p.Notes, fmt.Sprintf("%d: skip %s: type %q is a web page scraped by FreshRSS, not a feed", f.Line, f, f.Type))
			continue
		}
		if err := checkURL(f.URL); err != nil {
			p.notHTTP++
			title := ""
			if f.Title != "" {
				title = strconv.Quote(f.Title) + ": "
			}
			p.Notes = append(p.Notes, fmt.Sprintf("%d: skip %sxmlUrl %q %v", f.Line, title, shownURL(f.URL), err))
			continue
		}
		// A feed's credentials are never copied into feeds.yaml: the source
		// is added without them, and a note says how to give them.
		feedURL, user := withoutUserinfo(f.URL)
		norm := newsdesk.URLKey(feedURL)
		if id, ok := have[norm]; ok {
			if !present[norm] { // a feed listed in two folders counts once
				p.present++
			}
			present[norm] = true
			as := ""
			if id != "" {
				as = fmt.Sprintf(" as source %q", id)
			}
			p.Notes = append(p.Notes, fmt.Sprintf("%d: skip %s: already in feeds.yaml%s", f.Line, f, as))
			continue
		}
		tags := folderTags(f.Folders)
		if i, ok := seen[norm]; ok {
			for _, t := range tags {
				if !slices.Contains(p.Add[i].Tags, t) {
					p.Add[i].Tags = append(p.Add[i].Tags, t)
				}
			}
			p.Notes = append(p.Notes, fmt.Sprintf("%d: %s is also at line %d: one source with the tags of both folders", f.Line, f, firstLine[norm]))
			continue
		}
		id := MakeID(f.Title, feedURL, taken)
		taken[id] = true
		seen[norm], firstLine[norm] = len(p.Add), f.Line
		p.Add = append(p.Add, newsdesk.Source{ID: id, Title: f.Title, URL: feedURL, Tags: tags})
		if user != nil {
			env, name := suggestEnv(id), "..." // a user alone is often a token: not shown
			if _, ok := user.Password(); ok {
				name = user.Username()
			}
			p.Notes = append(p.Notes, fmt.Sprintf("%d: %s: the credentials in its URL are not copied into feeds.yaml: source %q is added without them (and fails until it has them): add auth: {username: %s, password_env: %s} to it and set %s %s", f.Line, f, id, name, env, env, envFix))
		}
	}
	return p
}

// folderTags turns folder names into tags; names with nothing to slug
// (only emoji, say) give no tag.
func folderTags(folders []string) []string {
	var tags []string
	for _, f := range folders {
		if t := Slug(f); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// Summary says what the import does, after "imported " or "would import ".
func (p Plan) Summary(path string) string {
	skipped := p.present + p.notHTTP + p.notFeed
	s := fmt.Sprintf("%s (%d skipped: already present %d, not http(s) %d", sources(len(p.Add)), skipped, p.present, p.notHTTP)
	if p.notFeed > 0 {
		s += fmt.Sprintf(", not a feed %d", p.notFeed)
	}
	return s + ") into " + path
}

// UnpublishedNote tells the operator which of the added sources no section
// of cfg publishes yet: a section's tags may already take some of them in.
func (cfg *Config) UnpublishedNote(added []newsdesk.Source) string {
	published := map[string]bool{}
	for _, sec := range cfg.Sections {
		for _, id := range sec.Sources {
			published[id] = true
		}
	}
	var n int
	var tags []string
	for _, s := range added {
		if published[s.ID] {
			continue
		}
		n++
		for _, t := range s.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	if len(added) == 0 || n == 0 {
		return ""
	}
	who, them, their := "they are", "them", "their"
	switch {
	case len(added) == 1:
		who, them, their = "it is", "it", "its"
	case n == 1:
		who, them, their = "1 of them is", "it", "its"
	case n < len(added):
		who = fmt.Sprintf("%d of them are", n)
	}
	note := who + " in no section yet: add " + them + " to a section's sources or tags to publish " + them
	if len(tags) > 0 {
		slices.Sort(tags)
		note += " (" + their + " tags: " + strings.Join(tags, ", ") + ")"
	}
	return note + "\n"
}

// sources is "1 source" or "N sources".
func sources(n int) string {
	if n == 1 {
		return "1 source"
	}
	return fmt.Sprintf("%d sources", n)
}

// withoutUserinfo is raw without the username and password it may carry,
// and them (nil when it has none).
func withoutUserinfo(raw string) (string, *url.Userinfo) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, nil
	}
	user := u.User
	u.User = nil
	return u.String(), user
}
