package status

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/newsdesk/newsdesk"
)

// The operator's page: GET /status (HTML); /status.json is WriteJSON.

//go:embed status.html.tmpl
var pageText string

var page = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return when(*t, time.Now())
	},
	"cell": func(a newsdesk.Attempt) string {
		switch a.Result {
		case newsdesk.ResultOK:
			if a.New > 0 {
				return "new"
			}
			return "ok"
		case newsdesk.ResultNotModified:
			return "nm"
		}
		return "err"
	},
	"tip": func(a newsdesk.Attempt) string {
		s := a.At.Local().Format("2006-01-02 15:04") + " " + string(a.Result)
		if a.Kind != "" {
			s += " (" + a.Kind + ")"
		}
		if a.New > 0 {
			s += ", new items"
		}
		return s
	},
}).Parse(pageText))

// Page is the /status page: the rows and what the daemon knows besides.
type Page struct {
	Config   string   // feeds.yaml's path
	Problems []string // why feeds.yaml was not reloaded, when it was not
	Store    string   // why the store is unhealthy, when it is
	Rows     []Row
	// Unread says the store could not be read: the page has no rows and
	// counts the sources as unknown.
	Unread bool
	// Subscribers are the readers' subscriptions at newsdesk's WebSub hub
	// (Subscribers), listed after the sources when there are any.
	Subscribers []Subscriber
}

// pageView is the template's data.
type pageView struct {
	Count    string // "3 sources"
	Config   string
	Problems []string
	Store    string
	Sources  []pageRow
	Articles bool // a source has full_text on: the table has an Articles column
	Push     bool // a source has websub on or a subscription: a Push column
	// Subscribers are the hub's subscriptions.
	Subscribers []Subscriber
}

type pageRow struct {
	Row
	Pad []struct{} // empty cells before a history shorter than 48
}

// WriteHTML writes the page.
func (p Page) WriteHTML(w io.Writer) error {
	v := pageView{Count: "sources unknown", Config: p.Config, Problems: p.Problems, Store: p.Store, Articles: anyArticles(p.Rows),
		Push: anyPush(p.Rows), Subscribers: p.Subscribers}
	if !p.Unread {
		v.Count = fmt.Sprintf("%d sources", len(p.Rows))
		if len(p.Rows) == 1 {
			v.Count = "1 source"
		}
	}
	for _, s := range p.Rows {
		v.Sources = append(v.Sources, pageRow{Row: s, Pad: make([]struct{}, newsdesk.HistoryLen-len(s.History))})
	}
	return page.Execute(w, v)
}
