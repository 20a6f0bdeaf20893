// Package publisher renders newsdesk's sections as RSS 2.0, Atom 1.0 and
// JSON Feed 1.1, with an HTML page per section, an HTML index page and an
// OPML subscription list, and serves them over HTTP from memory or writes
// them out as static files. Each file is rendered and gzip-compressed once
// per change; a request is answered from memory.
//
// Everything it publishes is a pure function of the store's items, their
// fetch states, the sections' versions and the configuration: it must not
// put the clock, made-up ids or anything else into a body that changes
// while nothing changed, because the ETag is a hash of the body and readers
// poll with it. (It reads the clock, through Config.Now, to choose items by
// a section's max_age and to date a new section version.) Each render
// records every section's version (newsdesk.SectionVersion) in the store:
// a hash of what the section's files are made of and when that last
// changed, which is their Last-Modified and the feeds' updated date. That
// is the only thing it writes to the store. It must not fetch anything or
// sanitize HTML: item HTML arrives already cleaned by the fetcher; every
// URL it republishes passes newsdesk.HTTPURL again, in case it does not. A
// private section's files must never reach anyone without its token, nor
// the static export.
//
// Every section feed and page advertises the WebSub hubs of Config.Hubs
// (rel="hub") and its own URL (rel="self"), in its body and, when served,
// in a Link header; the hubs are not part of the content hash, so a site
// that advertises other hubs records the same versions.
//
// The files follow the seams: site.go renders a Site (Render, and a
// section at a time for Server.RebuildSections); view.go makes the section
// and item views every format is written from; rss.go, atom.go,
// jsonfeed.go and index.go write the formats; file.go makes a rendered
// file with its gzip copy and header values; server.go serves a Site from
// memory; export.go writes it to a directory.
package publisher

import (
	"time"

	"github.com/newsdesk/newsdesk"
)

// Store is what the publisher needs from the database; every store.Store satisfies it.
type Store interface {
	// Section returns the items a section query selects, newest first by
	// Item.Published (ties broken by SourceID then ID, deterministic), with
	// a story carried by several sources once, its Duplicates listed.
	Section(q newsdesk.Query) ([]newsdesk.Item, error)
	// States returns the fetch state of every source that has one: what a
	// full render reads.
	States() ([]newsdesk.FetchState, error)
	// State returns one source's fetch state, or newsdesk.ErrNotFound when
	// it was never fetched: what re-rendering some sections reads, so that
	// its cost does not grow with the number of sources.
	State(sourceID string) (newsdesk.FetchState, error)
	// Position returns where the store's history of commits stands: reads
	// begun after it see every commit made before it.
	Position() (string, error)
	// RecordSectionVersions records that each section of hashes (section
	// id -> hash of its content, read after Position returned pos) has
	// that content at time now, and returns their versions: the stored one
	// when its hash is the same, else the next
	// (newsdesk.SectionVersion.Next), stored; or, when the stored version
	// was recorded from reads that may have seen commits pos does not
	// cover, the stored version, whose hash differs from the given one
	// (the render read stale content and reads again). Empty pos: never
	// behind.
	RecordSectionVersions(hashes map[string]string, now time.Time, pos string) (map[string]newsdesk.SectionVersion, error)
}

// Config is what the publisher needs from feeds.yaml.
type Config struct {
	BaseURL  string // absolute, ends with "/", e.g. "http://localhost:8080/"
	Title    string // site title for the index page and the OPML list
	Sources  []newsdesk.Source
	Sections []newsdesk.Section
	// Now is the clock a section's max_age counts back from and a new
	// section version is dated by; nil means time.Now. No body contains
	// it but as a version's time.
	Now func() time.Time
	// StatusPath is the path of the operator's status page relative to
	// the site root ("status"), which a section without items links to
	// beside its sources' errors; empty: no link (a static export has no
	// status page).
	StatusPath string
	// Hubs are the WebSub hubs every section feed and page advertises
	// (rel="hub", in the body and the Link header beside rel="self"), in
	// order: for serve BASE/websub first, then publish.websub_hubs; for
	// the static export publish.websub_hubs only, as a static host has no
	// hub. Each must be an absolute http(s) URL; empty: no hub is
	// advertised and no Link header sent. The hubs are not part of a
	// section's content hash, so serve and export record the same
	// versions.
	Hubs []string
}
