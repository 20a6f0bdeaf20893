package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/internal/control"
	"github.com/newsdesk/newsdesk/internal/filewatch"
	"github.com/newsdesk/newsdesk/metrics"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/websub"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs, configPath := e.flags("serve")
	listen := fs.String("listen", "", "listen on `ADDR` (host:port) instead of server.listen from the config")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *listen != "" {
		if err := config.CheckListen(*listen); err != nil {
			return usageError{fmt.Sprintf("-listen %q: %v", *listen, err)}
		}
	}
	if e.daemon != nil { // a client of the control socket; refused there too
		return fmt.Errorf("newsdesk serve already runs on %s: stop it first, or give this one another storage.path", e.daemon.db.Path())
	}
	cfg, err := e.loadConfigContext(ctx, *configPath)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	// The port first: a serve that cannot listen must not leave a new
	// database behind.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("%w (is another newsdesk serve running? choose another address with -listen or server.listen)", err)
	}
	defer ln.Close()
	if cfg.Postgres != "" {
		return serveShared(ctx, e, *configPath, cfg, ln, *listen)
	}
	_, statErr := os.Stat(cfg.DBPath)
	db, err := e.openStore(cfg, 0)
	if err != nil {
		return err
	}
	started := false
	defer func() {
		db.Close()
		if !started && os.IsNotExist(statErr) {
			os.Remove(cfg.DBPath) // created by this serve, which could not start
		}
	}()
	ctrl, err := control.Listen(config.SocketPath(cfg.DBPath))
	if err != nil {
		return err
	}
	defer ctrl.Close()
	d := newDaemon(*configPath, cfg, db, e.logger(slog.LevelInfo), *listen, nil)
	watcher, err := filewatch.New(d.path)
	if err != nil {
		return err
	}
	return d.run(ctx, ln, ctrl, watcher, func() { started = true })
}

// serveShared is serve on a store shared with other instances (PostgreSQL):
// no control socket and no file lock (every command opens the store
// itself); the instance joins the store's record of instances, leases the
// sources it fetches, and follows the others' commits.
func serveShared(ctx context.Context, e *env, configPath string, cfg *config.Config, ln net.Listener, listenFlag string) error {
	db, err := e.openStore(cfg, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	log := e.logger(slog.LevelInfo)
	m, err := join(ctx, db, "serve", cfg, log)
	if err != nil {
		return err
	}
	defer m.leave()
	d := newDaemon(configPath, cfg, db, log, listenFlag, m)
	watcher, err := filewatch.New(d.path)
	if err != nil {
		return err
	}
	return d.run(ctx, ln, nil, watcher, func() {})
}

// newDaemon makes the daemon of a serve on its open database: the first
// render, the metrics of what is configured and stored, and the scheduler.
// m is its membership of a shared store; nil for a file of its own.
func newDaemon(configPath string, cfg *config.Config, db store.Store, log *slog.Logger, listenFlag string, m *member) *daemon {
	d := &daemon{path: configPath, db: db, log: log, metrics: metrics.New(), listenFlag: listenFlag, purge: make(chan struct{}, 1), member: m}
	d.cfg.Store(cfg)
	d.site = publisher.NewServer(db, d.serverConfig(cfg), d.log)
	// A store that cannot be read now leaves serve up but not ready
	// (/readyz 503) until a render succeeds.
	if err := d.render(); err != nil {
		d.log.Error("could not render the sections: not ready until a render succeeds", "error", err)
	}
	d.observeSections(cfg.Sections...)
	d.metrics.ConfigLoaded("start", 0, time.Now())
	d.sched = newScheduler(cfg, db, d.log, m)
	d.sched.OnCommit = d.committed
	d.websubCtx, d.stopWebSub = context.WithCancel(context.Background())
	d.startWebSub(cfg)
	if err := d.observeSources(); err != nil {
		d.log.Error("could not read the sources' state", "error", err)
	}
	return d
}

// run serves until ctx is done or a listener fails: HTTP on ln, the
// control socket on ctrl, the scheduler, the config watch and the hourly
// chores. It calls started once every listener is up, when serve is
// ready, and returns after an orderly shutdown: fetches in flight are
// committed before it returns, so the caller may close the database.
func (d *daemon) run(ctx context.Context, ln, ctrl net.Listener, watcher *filewatch.Watcher, started func()) error {
	cfg := d.config()
	srv := newHTTPServer(d.handler(), d.log, serveTimeouts)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	})
	wg.Go(func() {
		if err := d.sched.Run(ctx); err != nil {
			errc <- err
		}
	})
	wg.Go(func() { d.watch(ctx, watcher) })
	if ctrl != nil {
		wg.Go(func() {
			if err := d.serveControl(ctx, ctrl); err != nil {
				errc <- err
			}
		})
	}
	wg.Go(func() { d.member.heartbeat(ctx) })
	wg.Go(func() { d.member.follow(ctx, d.othersCommitted, d.renderAgain) })
	wg.Go(func() { d.ageSections(ctx) })
	wg.Go(func() { d.purgeLoop(ctx) })
	wg.Go(func() { d.runWebSub(ctx) })
	// Every listener is bound: ready, and the log says so.
	started()
	d.ready.Store(true)
	if ctrl != nil {
		d.log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "base_url", cfg.BaseURL, "sources", len(cfg.Sources), "sections", len(cfg.Sections), "db", cfg.DBPath, "config", d.path, "control_socket", config.SocketPath(cfg.DBPath))
	} else {
		d.log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "base_url", cfg.BaseURL, "sources", len(cfg.Sources), "sections", len(cfg.Sections), "db", d.db.Path(), "config", d.path, "instance", d.member.ID())
	}

	var runErr error
	select {
	case <-ctx.Done():
		d.log.Info("stopping: finishing fetches in flight")
	case runErr = <-errc:
	}
	d.stopping.Store(true)
	d.ready.Store(false)
	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	wg.Wait() // the scheduler has committed what finished; db.Close runs after
	d.stopWebSub()
	d.websubWork.Wait()
	d.log.Info("stopped")
	return runErr
}

// daemon is a running `newsdesk serve`: the store, the scheduler, the
// rendered sections, and the configuration, which it reloads when
// feeds.yaml changes or on SIGHUP.
type daemon struct {
	path       string // feeds.yaml
	listenFlag string // -listen, which overrides server.listen
	db         store.Store
	log        *slog.Logger
	metrics    *metrics.Metrics
	site       *publisher.Server
	sched      *fetcher.Scheduler
	cfg        atomic.Pointer[config.Config]
	ready      atomic.Bool // every listener is up, and not stopping
	stopping   atomic.Bool
	rendered   atomic.Bool        // the site has been rendered at least once
	cronRun    bool               // a `newsdesk run` answering read-only commands, not serve
	member     *member            // this instance in a shared store; nil with a file of its own
	renders    renderQueue        // the re-renders commits ask for
	ownCommits sync.Map           // source id -> LastFetch of the state this instance last committed (shared store)
	purge      chan struct{}      // pokes purgeLoop after a reload
	hub        *websub.Hub        // the sections' WebSub hub
	sub        *websub.Subscriber // the sources' WebSub subscriptions
	// websubWork are the subscriber's steps after fetches and the pings
	// of external hubs, run off the goroutines that ask for them, with
	// websubCtx, which stopWebSub ends when serve stops.
	websubWork sync.WaitGroup
	websubCtx  context.Context
	stopWebSub context.CancelFunc

	mu        sync.Mutex
	rejected  []string // problems of the last reload attempt; empty when it applied
	public    []string // rejected as answers without a token may show them
	renderErr error    // the last render's failure to read the store; nil after a success
}

func (d *daemon) config() *config.Config { return d.cfg.Load() }

// holder names the command that holds the database: "serve" or "run".
func (d *daemon) holder() string {
	if d.cronRun {
		return "run"
	}
	return "serve"
}

// sourcesByID returns the daemon's own configuration of the given sources.
func (d *daemon) sourcesByID(want []newsdesk.Source) ([]newsdesk.Source, error) {
	cfg := d.config()
	out := make([]newsdesk.Source, 0, len(want))
	for _, w := range want {
		src, ok := cfg.Source(w.ID)
		if !ok {
			return nil, fmt.Errorf("newsdesk serve's configuration (%s) has no source %q: run with the config serve uses, or let serve reload it", d.path, w.ID)
		}
		out = append(out, src)
	}
	return out, nil
}

// problems are the problems of the last rejected reload, as answers
// without a token may show them: without private sections' ids.
func (d *daemon) problems() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.public
}

// allProblems are the problems of the last rejected reload in full, for
// the operator (the log, /status with server.admin_token).
func (d *daemon) allProblems() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rejected
}

func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.storeProblem() // the store's health, as of this scrape
		d.observeWebSub()
		d.metrics.Handler().ServeHTTP(w, r)
	}))
	// Without a method in the pattern: the site's "/" would take a POST
	// and answer 404; these answer 405, as every published file does.
	mux.HandleFunc("/healthz", getOnly(d.healthz))
	mux.HandleFunc("/readyz", getOnly(d.readyz))
	mux.HandleFunc("GET /status", d.serveStatus)
	mux.HandleFunc("GET /status.json", d.serveStatus)
	if d.hub != nil {
		mux.Handle(hubPath, d.hub)
		mux.Handle(websub.CallbackPath, d.sub)
	}
	mux.Handle("/", d.site)
	return d.metrics.Instrument(route, mux)
}

// getOnly answers methods other than GET and HEAD with 405.
func getOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// serverConfig is the publisher's configuration in serve, which has the
// status page that a section without items links to.
func serverConfig(cfg *config.Config) publisher.Config {
	pc := publisherConfig(cfg)
	pc.StatusPath = "status"
	// serve is the hub of its sections, first of those it advertises.
	pc.Hubs = append([]string{ownHub(cfg)}, cfg.WebSubHubs...)
	return pc
}

// serverConfig is serverConfig(cfg) for this daemon: on a shared store,
// the database's clock dates new section versions and ages max_age, so
// that every instance renders the same.
func (d *daemon) serverConfig(cfg *config.Config) publisher.Config {
	pc := serverConfig(cfg)
	if d.member != nil {
		pc.Now = d.member.now
	}
	return pc
}

// route names the kind of request for metrics: a fixed set of labels, the
// daemon's own routes and the site's (publisher.Route).
func route(r *http.Request) string {
	switch p := r.URL.Path; p {
	case "/healthz", "/readyz", "/metrics", "/status", "/status.json":
		return strings.TrimPrefix(p, "/")
	}
	return publisher.Route(r.URL.Path)
}

// The health table (README): /healthz is liveness and fails only while
// serve stops, never because of a dependency; its body says "degraded" with
// the reasons while feeds.yaml was rejected or the store cannot be read.
// /readyz is 200 while serve has rendered feeds to serve (the last ones,
// when the store has since failed), 503 while it starts, stops, or has
// nothing rendered.

func (d *daemon) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if d.stopping.Load() {
		http.Error(w, "stopping", http.StatusServiceUnavailable)
		return
	}
	var degraded []string
	if p := d.storeProblem(); p != "" {
		degraded = append(degraded, "degraded: "+p)
	}
	if ps := d.problems(); len(ps) > 0 {
		degraded = append(degraded, fmt.Sprintf("degraded: %s has %s; the previous configuration keeps running\n%s", d.path, plural(len(ps), "problem"), strings.Join(ps, "\n")))
	}
	if len(degraded) > 0 {
		fmt.Fprintln(w, strings.Join(degraded, "\n"))
		return
	}
	fmt.Fprintln(w, "ok")
}

func (d *daemon) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !d.ready.Load() {
		http.Error(w, "not ready: starting or stopping", http.StatusServiceUnavailable)
		return
	}
	if !d.rendered.Load() {
		http.Error(w, "not ready: no feeds rendered yet: "+d.storeProblem(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// storeProblem says why the store is unhealthy ("" when it is not), as
// answers without a token may say it: it does not answer, or the last
// render could not read it. It also sets the newsdesk_store_healthy gauge.
func (d *daemon) storeProblem() string { return d.storeHealth(false) }

// storeHealth is storeProblem; with full, the render's error is given
// whole, for the operator. Without it, a render error that is not damage
// (whose text is about the file only) is left to the log while a private
// section is configured: it may name that section ("render: section ID:").
func (d *daemon) storeHealth(full bool) string {
	problem := ""
	d.mu.Lock()
	renderErr := d.renderErr
	d.mu.Unlock()
	switch err := d.db.Ping(); {
	case err != nil:
		problem = "store " + d.db.Path() + " does not answer: " + err.Error()
	case renderErr != nil:
		why := renderErr.Error()
		if damaged, ok := errors.AsType[*bolt.DamagedError](renderErr); ok && !full {
			why = damaged.Error()
		} else if !full && slices.ContainsFunc(d.config().Sections, func(s newsdesk.Section) bool { return s.Token != "" }) {
			why = "the log says why"
		}
		problem = "store " + d.db.Path() + " could not be read to render the sections: " + why
	}
	if problem != "" {
		if d.rendered.Load() {
			problem += "; serving the feeds rendered last"
		}
		if d.member != nil {
			problem += " (fetching resumes by itself once it answers: check that PostgreSQL is up and reachable from here)"
		} else {
			problem += " (see 'newsdesk verify'; restore a backup if it is damaged)"
		}
	}
	d.metrics.SetStoreHealthy(problem == "")
	return problem
}

// render renders the sections ids again (all of them when none are given)
// and records whether the store could be read for it.
func (d *daemon) render(ids ...string) error {
	var err error
	before := d.site.SectionVersions()
	defer func() {
		if err == nil {
			d.renderedVersions(before, d.site.SectionVersions())
		}
	}()
	if len(ids) == 0 {
		err = d.site.Rebuild()
	} else {
		err = d.site.RebuildSections(ids...)
	}
	d.mu.Lock()
	d.renderErr = err
	d.mu.Unlock()
	if err == nil {
		d.rendered.Store(true)
	}
	d.metrics.SetStoreHealthy(err == nil)
	return err
}

func adminAuthorized(r *http.Request, token string) bool {
	got := r.URL.Query().Get("token")
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		got = strings.TrimSpace(h)
	}
	return newsdesk.TokenEqual(got, token)
}

// committed is the scheduler's OnCommit: record the fetch (and the
// source's article pass), and re-render the sections the source feeds
// when it brought new or changed items or articles, or
// changed how the sections show the source (its feed's title, id, date or
// authors, or the error an empty section names).
func (d *daemon) committed(o fetcher.Outcome) {
	st := o.State
	d.subscribeAfter(o)
	d.metrics.ObserveFetch(metrics.Fetch{Source: o.Source.ID, Result: o.Kind, Bytes: o.Bytes, New: st.New, Updated: st.Updated,
		Failures: st.Failures, LastSuccess: st.LastSuccess, NextDue: st.NextDue})
	if d.member != nil { // its notification comes back: othersCommitted skips it
		d.ownCommits.Store(o.Source.ID, st.LastFetch)
	}
	if o.Source.FullText.Enabled {
		d.metrics.ObserveArticles(metrics.Articles{Source: o.Source.ID, Results: o.Articles.Results, Pending: o.Articles.Pending})
	}
	if st.New+st.Updated == 0 && o.Articles.Fetched == 0 && !d.site.Outdated(st) {
		return
	}
	d.renderSections(sectionsOf(d.config(), []string{o.Source.ID}, nil))
}

// renderSections re-renders the sections ids after commits, coalescing
// the renders of commits that come while one runs (renderQueue).
func (d *daemon) renderSections(ids []string) {
	if len(ids) == 0 {
		return
	}
	d.renders.add(ids, func(ids []string) {
		if err := d.render(ids...); err != nil {
			d.log.Error("could not render sections", "sections", ids, "error", err)
			return
		}
		for _, sec := range d.config().Sections {
			if slices.Contains(ids, sec.ID) {
				d.observeSections(sec)
			}
		}
	})
}

// othersCommitted re-renders the sections that show sources, and the
// sections secs, after another instance sharing the store committed to
// them (member.follow), and sets the metrics of those sources.
func (d *daemon) othersCommitted(sources, secs []string) {
	cfg := d.config()
	var changed []string
	for _, id := range sources {
		if _, ok := cfg.Source(id); !ok {
			continue
		}
		st, err := d.db.State(id)
		if err != nil {
			changed = append(changed, id)
			continue
		}
		d.metrics.SetSource(id, st.Failures, st.LastSuccess, st.NextDue)
		// The notification of this instance's own commit, already rendered
		// by committed: the state is the one it stored. A push stored by
		// another instance leaves the state as it was: a source whose hub
		// pushes is rendered again on every notification.
		src, _ := cfg.Source(id)
		if own, ok := d.ownCommits.Load(id); !ok || !own.(time.Time).Equal(st.LastFetch) || src.WebSub {
			changed = append(changed, id)
		}
	}
	d.renderSections(sectionsOf(cfg, changed, secs))
}

// renderAgain renders every section again when the last render failed
// (the store did not answer then), so that health recovers with the store.
func (d *daemon) renderAgain() {
	d.mu.Lock()
	failed := d.renderErr != nil
	d.mu.Unlock()
	if !failed {
		return
	}
	if err := d.render(); err != nil {
		d.log.Error("could not render the sections again", "error", err)
		return
	}
	d.observeSections(d.config().Sections...)
	d.log.Info("sections rendered again: the store answers")
}

// ageSections re-renders, every hour, the sections with a max_age: their
// items age out with time, not only when a fetch brings new ones.
func (d *daemon) ageSections(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var aging []newsdesk.Section
		var ids []string
		for _, sec := range d.config().Sections {
			if sec.MaxAge > 0 {
				aging = append(aging, sec)
				ids = append(ids, sec.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		if err := d.render(ids...); err != nil {
			d.log.Error("could not render sections", "sections", ids, "error", err)
			continue
		}
		d.observeSections(aging...)
	}
}

// observeSections records the item counts of freshly rendered sections,
// as the publisher rendered them. Private sections are left out: /metrics
// answers without a token, and their ids are secret too.
func (d *daemon) observeSections(secs ...newsdesk.Section) {
	now, counts := time.Now(), d.site.ItemCounts()
	for _, sec := range secs {
		if sec.Token != "" {
			d.metrics.ForgetSection(sec.ID) // in case a reload made it private
			continue
		}
		d.metrics.ObserveRender(sec.ID, counts[sec.ID], now)
	}
}

// observeSources sets every source's gauges from the stored state.
func (d *daemon) observeSources() error {
	states, err := d.db.States()
	if err != nil {
		return err
	}
	for _, st := range states {
		src, ok := d.config().Source(st.SourceID)
		if !ok {
			continue
		}
		d.metrics.SetSource(st.SourceID, st.Failures, st.LastSuccess, st.NextDue)
		if src.FullText.Enabled {
			var stats store.ArticleStats // none pending before its first fetch with full text
			if !st.FullTextSince.IsZero() {
				if stats, err = d.db.ArticleStats(st.SourceID, st.FullTextSince); err != nil {
					return err
				}
			}
			d.metrics.ObserveArticles(metrics.Articles{Source: st.SourceID, Pending: stats.Pending()})
		}
	}
	return nil
}

// watch reloads feeds.yaml when it changes, and on SIGHUP, until ctx is
// done.
func (d *daemon) watch(ctx context.Context, w *filewatch.Watcher) {
	w.Run(ctx, func(trigger string) {
		if trigger == "sighup" {
			d.log.Info("SIGHUP: reloading the configuration", "config", d.path)
		}
		d.reload(ctx, trigger)
	}, func(err error) {
		d.log.Warn("watching the configuration", "config", d.path, "error", err)
	})
}

// reload reads feeds.yaml again. A file with problems is rejected whole:
// the running configuration stays, and the problems are logged with their
// lines and shown by /healthz, /status and /metrics. Shutdown (ctx done)
// stops a reload that is still reading the file.
func (d *daemon) reload(ctx context.Context, trigger string) {
	cfg, err := config.LoadContext(ctx, d.path)
	var ps config.Problems
	switch {
	case ctx.Err() != nil:
		d.log.Info("configuration not reloaded: stopping", "config", d.path)
		return
	case errors.As(err, &ps):
		lines, public := make([]string, len(ps)), make([]string, len(ps))
		for i, p := range ps {
			lines[i], public[i] = p.String(), p.Public()
			d.log.Error("configuration rejected", "problem", p.String())
		}
		d.setRejected(lines, public)
		d.metrics.ConfigLoaded(trigger, len(ps), time.Now())
		d.log.Error("the previous configuration keeps running; fix the file to apply it", "config", d.path, "problems", len(ps))
		return
	case err != nil:
		d.setRejected([]string{err.Error()}, []string{err.Error()})
		d.metrics.ConfigLoaded(trigger, 1, time.Now())
		d.log.Error("configuration not reloaded; the previous one keeps running", "config", d.path, "error", err)
		return
	}
	old := d.config()
	if cfg.DBPath != old.DBPath || cfg.Postgres != old.Postgres {
		d.log.Warn("storage changed: restart newsdesk serve to use the new database; keeping "+d.db.Path(), "config", d.path)
		cfg.DBPath, cfg.Postgres, cfg.PostgresFrom = old.DBPath, old.Postgres, old.PostgresFrom
	}
	if d.listenFlag != "" {
		cfg.Listen = d.listenFlag
	} else if cfg.Listen != old.Listen {
		d.log.Warn("server.listen changed: restart newsdesk serve to listen there", "config", d.path)
	}
	if cfg.Concurrency != old.Concurrency || cfg.PerHost != old.PerHost || cfg.UserAgentURL != old.UserAgentURL || cfg.Lease != old.Lease {
		d.log.Warn("fetch.concurrency, fetch.per_host, fetch.user_agent_url and storage.lease apply after a restart of newsdesk serve", "config", d.path)
	}
	if cfg.BaseURL != old.BaseURL || cfg.WebSubAllowPrivate != old.WebSubAllowPrivate {
		d.log.Warn("server.base_url and server.websub_allow_private apply to WebSub (the hub's Link headers, the callbacks sources' hubs call) after a restart of newsdesk serve; the feeds show the new base_url now", "config", d.path)
	}
	d.cfg.Store(cfg)
	d.member.configured(cfg)
	d.setRejected(nil, nil)
	// The error gauge turns with /healthz, before anything of the new
	// configuration can be seen: a scrape that finds its sections served
	// never reads the old rejection. The reload is counted once it is
	// rendered: a scrape that counts it finds its sections served.
	d.metrics.ConfigProblems(0)
	d.sched.SetSources(cfg.Sources)
	d.site.SetConfig(d.serverConfig(cfg))
	if err := d.render(); err != nil {
		d.log.Error("could not render sections after reload", "error", err)
	}
	for _, src := range old.Sources {
		if _, ok := cfg.Source(src.ID); !ok {
			d.metrics.ForgetSource(src.ID)
		}
	}
	for _, sec := range old.Sections {
		if !slices.ContainsFunc(cfg.Sections, func(s newsdesk.Section) bool { return s.ID == sec.ID }) {
			d.metrics.ForgetSection(sec.ID)
		}
	}
	d.observeSections(cfg.Sections...)
	d.removedSources(cfg)
	// Sources removed or with websub turned off are unsubscribed at their
	// hubs.
	d.tidyWebSub(cfg)
	d.metrics.ConfigLoaded(trigger, 0, time.Now())
	d.log.Info("configuration reloaded", "config", d.path, "sources", len(cfg.Sources), "sections", len(cfg.Sections))
}

func (d *daemon) setRejected(lines, public []string) {
	d.mu.Lock()
	d.rejected, d.public = lines, public
	d.mu.Unlock()
}
