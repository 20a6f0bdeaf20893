package bolt

import (
	"errors"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// PLACEHOLDER until the store helper's branch replaces this file: the
// article methods of the store contract (store/articles.go).

var errArticlesUnbuilt = errors.New("articles: not built yet")

func (db *DB) SaveArticle(a newsdesk.Article, page []byte) error { return errArticlesUnbuilt }

func (db *DB) Article(sourceID, itemID string) (newsdesk.Article, error) {
	return newsdesk.Article{}, errArticlesUnbuilt
}

func (db *DB) ArticlePage(sourceID, itemID string) ([]byte, error) { return nil, errArticlesUnbuilt }

func (db *DB) ArticlesDue(sourceID string, since, now time.Time, limit int) ([]store.ArticleJob, error) {
	return nil, errArticlesUnbuilt
}

func (db *DB) ArticleStats(sourceID string, since time.Time) (store.ArticleStats, error) {
	return store.ArticleStats{}, errArticlesUnbuilt
}

func (db *DB) Articles(sourceID string, fn func(newsdesk.Article) bool) error {
	return errArticlesUnbuilt
}
