package fetcher

import "github.com/newsdesk/newsdesk/internal/charset"

// stripControls drops the characters XML forbids from a field that gofeed
// decoded from escapes (a JSON "\u0001", an XML "&#1;"); the body as a
// whole went through charset.ToUTF8 already.
func stripControls(s string) string { return charset.StripControls(s) }
