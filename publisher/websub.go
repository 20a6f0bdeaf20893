package publisher

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
)

// What the WebSub hub (package websub) needs of the site it is the hub of:
// which section file a hub.topic names, that file's current body, and the
// version of every section. *Server satisfies websub.Site; neither package
// imports the other.

// ErrForeignTopic is WebSubTopic's error for a URL that is not one of this
// server's section files. Like the others it does not repeat the topic,
// which may carry a token.
var ErrForeignTopic = errors.New("hub.topic is not a feed or page of this server: give the URL of a section file under its base URL")

// WebSubTopic resolves a hub.topic URL to the section and format it names
// (newsdesk.FormatRSS, FormatAtom, FormatJSON or FormatHTML): the URL of
// one of the current site's section files under the base URL, with the
// section's token for a private one. It returns ErrForeignTopic for a URL
// elsewhere, and an error wrapping newsdesk.ErrNotFound for a section the
// site does not have, or a private one without its token: as when it is
// served, a wrong token looks like no section.
func (s *Server) WebSubTopic(topic string) (section, format string, err error) {
	site := s.site.Load()
	if site == nil {
		return "", "", errors.New("the site has not been rendered yet: try again in a minute")
	}
	u, err := url.Parse(topic)
	if err != nil || u.Fragment != "" || u.User != nil {
		return "", "", ErrForeignTopic
	}
	base, err := url.Parse(site.base)
	if err != nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return "", "", ErrForeignTopic
	}
	rel, ok := strings.CutPrefix(u.Path, base.Path)
	if !ok {
		return "", "", ErrForeignTopic
	}
	path, ok := sitePath("/" + rel)
	if !ok || !strings.HasPrefix(path, "sections/") {
		return "", "", ErrForeignTopic
	}
	name := strings.TrimPrefix(path, "sections/")
	// A format is its file's extension (newsdesk.FormatRSS is "rss").
	section, format, _ = strings.Cut(name, ".")
	f := site.files[path]
	if f == nil || (f.token != "" && !newsdesk.TokenEqual(u.Query().Get("token"), f.token)) {
		return "", "", fmt.Errorf("hub.topic: section %q: %w on this server (a private section needs ?token=)", section, newsdesk.ErrNotFound)
	}
	return section, format, nil
}

// SectionFile returns the current file of a section in a format: its body
// (not to be modified), Content-Type and the ChangedAt of the section
// version it shows. It returns an error wrapping newsdesk.ErrNotFound for
// a section or format the current site does not have.
func (s *Server) SectionFile(section, format string) (body []byte, contentType string, changedAt time.Time, err error) {
	site := s.site.Load()
	if site == nil {
		return nil, "", time.Time{}, fmt.Errorf("section %q: the site has not been rendered yet: %w", section, newsdesk.ErrNotFound)
	}
	f, ok := site.fileAt("sections/" + section + "." + format)
	if !ok {
		return nil, "", time.Time{}, fmt.Errorf("section %q in format %q: %w", section, format, newsdesk.ErrNotFound)
	}
	return f.Body, f.ContentType, site.versions[section].ChangedAt, nil
}

// SectionVersions returns the ChangedAt of the version of every section
// the current site serves, private ones included, by section id; empty
// before the first Rebuild.
func (s *Server) SectionVersions() map[string]time.Time {
	out := map[string]time.Time{}
	for id, v := range s.versions() {
		out[id] = v.ChangedAt
	}
	return out
}
