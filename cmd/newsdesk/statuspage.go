package main

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"github.com/newsdesk/newsdesk"
)

// The operator's page: GET /status (HTML) and /status.json.

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
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
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsdesk status</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
.meta { color: #666; font-size: .9rem; margin-bottom: 1rem; }
.problems { background: #fdecea; border: 1px solid #e0a9a4; padding: .5rem .75rem; margin-bottom: 1rem; }
.problems li { font-family: ui-monospace, monospace; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e5e5e5; vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; color: #555; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.id { white-space: nowrap; }
tr.bad td:first-child { border-left: 4px solid #c62828; }
tr.stale td:first-child { border-left: 4px solid #ef6c00; }
.strip { display: flex; gap: 1px; }
.strip span { width: 7px; height: 16px; display: inline-block; }
.ok { background: #9ccc65; } .new { background: #2e7d32; } .nm { background: #c5e1a5; } .err { background: #c62828; } .none { background: #eee; }
.notes { color: #555; font-size: .85rem; }
.err-text { color: #b71c1c; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 .2rem 0 .6rem; }
</style>
</head>
<body>
<h1>newsdesk status</h1>
<p class="meta">{{.Count}} · config {{.Config}} · <a href="status.json">JSON</a> · <a href="metrics">metrics</a>
<span class="legend"><span class="new"></span>new items<span class="ok"></span>ok<span class="nm"></span>not modified<span class="err"></span>error</span></p>
{{if .Store}}<div class="problems"><strong>{{.Store}}</strong></div>{{end}}
{{if .Problems}}<div class="problems"><strong>feeds.yaml was not reloaded: the previous configuration keeps running.</strong><ul>{{range .Problems}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
<table>
<thead><tr><th>Source</th><th>Last result</th><th>Last success</th><th>Next due</th><th class="n">Items</th><th>Last 48 fetches</th></tr></thead>
<tbody>
{{range .Sources}}<tr class="{{if .Stale}}stale{{else if .Failures}}bad{{end}}">
<td class="id"><strong>{{.ID}}</strong><br><span class="notes">{{.Title}}</span></td>
<td>{{if .Error}}<span class="err-text">{{.Summary}}</span>{{else}}{{.Summary}}{{end}}{{range .Notes}}<div class="notes">{{.}}</div>{{end}}</td>
<td>{{ago .LastSuccess}}</td>
<td>{{if .NextDue}}{{ago .NextDue}}{{else}}never{{end}}</td>
<td class="n">{{.Items}}</td>
<td><div class="strip">{{range .Pad}}<span class="none"></span>{{end}}{{range .History}}<span class="{{cell .}}" title="{{tip .}}"></span>{{end}}</div></td>
</tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

// statusView is the page's data.
type statusView struct {
	Count    string // "3 sources"
	Config   string
	Problems []string
	Store    string // why the store is unhealthy, when it is
	Sources  []statusRow
}

type statusRow struct {
	sourceStatus
	Pad []struct{} // empty cells before a history shorter than 48
}

// serveStatus answers /status and /status.json from the current state.
func (d *daemon) serveStatus(w http.ResponseWriter, r *http.Request) {
	cfg := d.config()
	if cfg.AdminToken != "" && !adminAuthorized(r, cfg.AdminToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="newsdesk"`)
		http.Error(w, "401 unauthorized: give server.admin_token as a Bearer token or ?token=", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	// With server.admin_token the request carried it: the operator sees
	// everything. Without, the page shows what answers without a token may.
	full := cfg.AdminToken != ""
	problems := d.problems()
	if full {
		problems = d.allProblems()
	}
	list, err := collectStatus(cfg, d.db, time.Now())
	if err != nil {
		// The store cannot be read: say why (serve goes on with the feeds
		// it rendered last).
		d.log.Error("status page", "error", err)
		problem := d.storeHealth(full)
		if problem == "" {
			problem = "store " + d.db.Path() + " could not be read: " + err.Error()
		}
		if r.URL.Path == "/status.json" {
			http.Error(w, problem, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		statusPage.Execute(w, statusView{Count: "sources unknown", Config: cfg.Path, Problems: problems, Store: problem})
		return
	}
	if r.URL.Path == "/status.json" {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(list)
		return
	}
	v := statusView{Count: plural(len(list), "source"), Config: cfg.Path, Problems: problems, Store: d.storeHealth(full)}
	for _, s := range list {
		v.Sources = append(v.Sources, statusRow{sourceStatus: s, Pad: make([]struct{}, newsdesk.HistoryLen-len(s.History))})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := statusPage.Execute(w, v); err != nil {
		d.log.Error("status page", "error", err)
	}
}
