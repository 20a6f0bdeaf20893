package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/status"
	"github.com/newsdesk/newsdesk/store"
)

func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("status")
	asJSON := fs.Bool("json", false, "print JSON for scripts instead of a table")
	verbose := fs.Bool("v", false, "full detail: dates, whole results and notes (a terminal gets one short line per source)")
	if err := parse(fs, args); err != nil {
		return err
	}
	// A person at a terminal gets lines that fit it; pipes, files and -v the
	// full detail.
	width := 0
	if !*asJSON && !*verbose {
		width = status.TerminalWidth(e.stdout)
	}
	cfg, db, err := e.open(*config)
	var fwd errForward
	if width > 0 && errors.As(err, &fwd) {
		// serve holds the database and has no terminal: ask it for JSON and
		// fit the lines to this one.
		return statusThroughDaemon(ctx, e, fwd.socket, args, width)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	// The operator at the machine sees private sections' subscribers.
	rep, err := statusReport(cfg, db, true, time.Now())
	if err != nil {
		return err
	}
	cl, err := clusterOf(ctx, db, cfg)
	if err != nil {
		return err
	}
	switch {
	case *asJSON && cl != nil:
		return writeStatusJSON(e.stdout, rep, cl)
	case *asJSON:
		return status.WriteReportJSON(e.stdout, rep)
	case width > 0:
		err = status.WriteShort(e.stdout, rep.Sources, time.Now(), width)
	default:
		err = status.WriteText(e.stdout, rep.Sources, time.Now())
	}
	if err == nil {
		err = status.WriteSubscribers(e.stdout, rep.Subscribers)
	}
	if err != nil || cl == nil {
		return err
	}
	for _, w := range cl.Warnings {
		fmt.Fprintf(e.stderr, "newsdesk status: warning: %s\n", w)
	}
	return writeInstances(e.stdout, cl, time.Now())
}

// statusReport is the status of cfg's sources and of the orphans in db,
// with their WebSub subscriptions and the hub's subscribers when the store
// keeps them (store.WebSubStore); showPrivate names private sections'
// subscribers (not on a /status page that answers without a token).
func statusReport(cfg *config.Config, db store.Store, showPrivate bool, now time.Time) (status.Report, error) {
	stored, err := db.Orphans(cfg.SourceIDs())
	if err != nil {
		return status.Report{}, err
	}
	orphans := make([]status.Orphan, len(stored))
	for i, o := range stored {
		orphans[i] = status.Orphan{SourceID: o.SourceID, Items: o.Items, RemovedAt: o.RemovedAt}
	}
	sc := status.Config{Sources: cfg.Sources, PurgeRemovedAfter: cfg.PurgeRemovedAfter,
		Interval: fetcher.Interval, Due: fetcher.Due, WebSubReachable: cfg.WebSubReachable()}
	var hubSubs []newsdesk.HubSubscription
	if ws, ok := db.(store.WebSubStore); ok {
		if sc.Push, err = ws.PushSubscriptions(); err != nil {
			return status.Report{}, err
		}
		err = ws.HubSubscriptions(func(s newsdesk.HubSubscription) bool {
			hubSubs = append(hubSubs, s)
			return true
		})
		if err != nil {
			return status.Report{}, err
		}
	}
	rows, err := status.Collect(sc, db, orphans, now)
	if err != nil {
		return status.Report{}, err
	}
	return status.Report{Sources: rows, Subscribers: status.Subscribers(hubSubs, cfg.Sections, showPrivate, now)}, nil
}

// statusThroughDaemon runs status -json in the serve that holds the
// database and prints its answer in the short form.
func statusThroughDaemon(ctx context.Context, e *env, socket string, args []string, width int) error {
	var out bytes.Buffer
	if code := forward(ctx, socket, append([]string{"status", "-json"}, args...), &out, e.stderr, e.logFormat, nil); code != exitOK {
		return exitCode(code)
	}
	rep, err := status.ReadJSON(out.Bytes())
	if err != nil {
		return fmt.Errorf("newsdesk serve's status: %w", err)
	}
	if err := status.WriteShort(e.stdout, rep.Sources, time.Now(), width); err != nil {
		return err
	}
	return status.WriteSubscribers(e.stdout, rep.Subscribers)
}

// exitCode is the exit code of a command that already said why (a
// forwarded one).
type exitCode int

func (c exitCode) Error() string { return "exit code " + strconv.Itoa(int(c)) }

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
	page := status.Page{Config: cfg.Path, Problems: d.problems()}
	if full {
		page.Problems = d.allProblems()
	}
	rep, err := statusReport(cfg, d.db, full, time.Now())
	if err != nil {
		// The store cannot be read: say why (serve goes on with the feeds
		// it rendered last).
		d.log.Error("status page", "error", err)
		page.Store, page.Unread = d.storeHealth(full), true
		if page.Store == "" {
			page.Store = "store " + d.db.Path() + " could not be read: " + err.Error()
		}
		if r.URL.Path == "/status.json" {
			http.Error(w, page.Store, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		page.WriteHTML(w)
		return
	}
	if r.URL.Path == "/status.json" {
		w.Header().Set("Content-Type", "application/json")
		status.WriteReportJSON(w, rep)
		return
	}
	page.Store, page.Rows, page.Subscribers = d.storeHealth(full), rep.Sources, rep.Subscribers
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.WriteHTML(w); err != nil {
		d.log.Error("status page", "error", err)
	}
}
