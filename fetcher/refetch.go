package fetcher

// refetch.go is what `newsdesk refetch-text SOURCE [ITEM]` (cmd/newsdesk)
// calls: extract the articles of a full-text source's items again with the
// source's current full_text rules, from the pages the store kept where it
// can, else by fetching them again.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
)

// The actions of a RefetchResult.
const (
	RefetchExtracted = "extracted" // extracted again from the stored page, no request made
	RefetchFetched   = "fetched"   // the page was fetched again and its article extracted
	RefetchFailed    = "failed"    // neither: Kind and Error say why
)

// RefetchResult is what RefetchText did for one item.
type RefetchResult struct {
	ItemID, Title string
	Action        string // RefetchExtracted, RefetchFetched or RefetchFailed
	Chars         int    // characters of the article's text, when it was extracted
	// Kind and Error say why it failed (ErrorKind's labels, plus
	// "disallowed", "too_short", ...). A failed re-extraction from the
	// stored page leaves the stored article as it was.
	Kind, Error string
}

// RefetchText extracts the articles of src's items again with src's
// current full_text rules (selector, remove), calling fn with each item's
// result, in item id order. itemIDs names the items (full stored ids);
// empty means every item of the source that has an article record, and
// every item first seen since full text was turned on.
//
// An item whose page is stored and whose link is still the one the article
// was made for is extracted again from that page, with no request. Any
// other is fetched again as the article pass would (robots.txt, the
// address guard, the per-host limit; per_pass does not apply), from a
// first attempt: a record that was given up, disallowed or refused is
// tried again. The error is for what stops the whole run: src not
// full-text, an item that is not stored, the store failing, ctx ending.
func (s *Scheduler) RefetchText(ctx context.Context, src newsdesk.Source, itemIDs []string, fn func(RefetchResult)) error {
	as := s.articleStore()
	if as == nil {
		return errors.New("refetch-text: the store keeps no articles")
	}
	if !src.FullText.Enabled {
		return fmt.Errorf("refetch-text: source %q does not have full_text on in feeds.yaml", src.ID)
	}
	st, err := s.Store.State(src.ID)
	if err != nil && !errors.Is(err, newsdesk.ErrNotFound) {
		return fmt.Errorf("refetch-text: read the state of %q: %w", src.ID, err)
	}
	if len(itemIDs) == 0 {
		if itemIDs, err = refetchable(as, src.ID, st.FullTextSince); err != nil {
			return fmt.Errorf("refetch-text: list the items of %q: %w", src.ID, err)
		}
	}
	run := &articleRun{s: s, as: as, src: src, st: st, now: s.now, log: s.Logger.With("source", src.ID), held: map[string]bool{}, refetch: true}
	for _, id := range itemIDs {
		if err := ctx.Err(); err != nil {
			return err
		}
		it, err := as.Item(src.ID, id)
		if err != nil {
			return fmt.Errorf("refetch-text: item %q of %q: %w", id, src.ID, err)
		}
		res, err := run.again(ctx, it)
		if err != nil {
			return err
		}
		fn(res)
	}
	return nil
}

// refetchable lists, in id order, the items of a source that have an
// article record or were first seen at or after since (when set).
func refetchable(as ArticleStore, sourceID string, since time.Time) ([]string, error) {
	var ids []string
	err := as.Articles(sourceID, func(a newsdesk.Article) bool {
		ids = append(ids, a.ItemID)
		return true
	})
	if err != nil {
		return nil, err
	}
	if !since.IsZero() {
		err = as.Items(sourceID, func(it newsdesk.Item) bool {
			if !it.FirstSeen.Before(since) {
				ids = append(ids, it.ID)
			}
			return true
		})
	}
	slices.Sort(ids)
	return slices.Compact(ids), err
}

// again is RefetchText for one item: from the stored page when it can,
// else fetched.
func (a *articleRun) again(ctx context.Context, it newsdesk.Item) (RefetchResult, error) {
	res := RefetchResult{ItemID: it.ID, Title: it.Title}
	rec, err := a.as.Article(a.src.ID, it.ID)
	switch {
	case errors.Is(err, newsdesk.ErrNotFound):
	case err != nil:
		return res, fmt.Errorf("refetch-text: read the article of %q: %w", it.ID, err)
	case rec.Link == it.Link:
		page, err := a.as.ArticlePage(a.src.ID, it.ID)
		if err == nil {
			return a.reextract(it, rec, page), nil
		}
		if !errors.Is(err, newsdesk.ErrNotFound) {
			return res, fmt.Errorf("refetch-text: read the page of %q: %w", it.ID, err)
		}
	}
	a.last, a.skipped = newsdesk.Article{}, ""
	result := a.fetch(ctx, it, nil)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	switch {
	case result == resultOK:
		res.Action, res.Chars = RefetchFetched, a.last.Chars
	case result == "":
		res.Action, res.Kind, res.Error = RefetchFailed, "skipped", a.skipped
	default:
		res.Action, res.Kind, res.Error = RefetchFailed, result, a.last.Error
	}
	return res, nil
}

// reextract extracts rec's article again from its stored page, and
// stores it when that worked; a failure leaves the stored article alone.
func (a *articleRun) reextract(it newsdesk.Item, rec newsdesk.Article, page []byte) RefetchResult {
	res := RefetchResult{ItemID: it.ID, Title: it.Title}
	base, err := url.Parse(rec.URL)
	if err != nil || rec.URL == "" {
		base, _ = url.Parse(rec.Link)
	}
	html, chars, err := extract(page, base, rulesOf(a.src.FullText), summaryChars(it))
	if err != nil {
		res.Action, res.Kind, res.Error = RefetchFailed, ErrorKind(err), err.Error()+" (the stored article is unchanged)"
		return res
	}
	rec.Status, rec.HTML, rec.Chars, rec.Kind, rec.Error = newsdesk.ArticleOK, html, chars, "", ""
	rec.NextTry, rec.Rules = time.Time{}, rulesHash(a.src.FullText)
	if err := a.as.SaveArticle(rec, nil); err != nil {
		res.Action, res.Kind, res.Error = RefetchFailed, kindStore, "could not store the article: "+err.Error()
		return res
	}
	res.Action, res.Chars = RefetchExtracted, chars
	return res
}
