package main

import (
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/fetcher"
)

// init hands config the fetcher's CSS selector check for full_text.selector
// and full_text.remove (issue 13), before any command reads feeds.yaml:
// check, run, serve and its reloads, and import all find a selector the
// extractor could not use at its line and column. config may not import the
// fetcher, so cmd, which imports both, connects them.
func init() {
	config.SelectorCheck = fetcher.CheckSelector
}
