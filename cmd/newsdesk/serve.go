package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/metrics"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("serve")
	listen := fs.String("listen", "", "listen on `ADDR` (host:port) instead of server.listen from the config")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, db, err := e.open(*config)
	if err != nil {
		return err
	}
	defer db.Close()
	if *listen != "" {
		cfg.Listen = *listen
	}
	d := &daemon{path: *config, db: db, log: e.logger(slog.LevelInfo), metrics: metrics.New(), listenFlag: *listen}
	d.cfg.Store(cfg)
	d.site = publisher.NewServer(db, serverConfig(cfg), d.log)
	if err := d.site.Rebuild(); err != nil {
		return err
	}
	d.observeSections(cfg.Sections...)
	d.metrics.ConfigLoaded("start", 0, time.Now())
	d.sched = newScheduler(cfg, db, d.log)
	d.sched.OnCommit = d.committed
	if err := d.observeSources(); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("%w (is another newsdesk serve running? choose another address with -listen or server.listen)", err)
	}
	srv := &http.Server{
		Handler:           d.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}

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
	wg.Go(func() {
		if err := d.watch(ctx); err != nil {
			errc <- err
		}
	})
	wg.Go(func() {
		if err := d.serveControl(ctx, socketPath(cfg.DBPath)); err != nil {
			errc <- err
		}
	})
	wg.Go(func() { d.ageSections(ctx) })
	d.ready.Store(true)
	d.log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "base_url", cfg.BaseURL, "sources", len(cfg.Sources), "sections", len(cfg.Sections), "db", cfg.DBPath, "config", d.path, "control_socket", socketPath(cfg.DBPath))

	var runErr error
	select {
	case <-ctx.Done():
		d.log.Info("stopping: finishing fetches in flight")
	case runErr = <-errc:
	}
	d.ready.Store(false)
	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	wg.Wait() // the scheduler has committed what finished; db.Close runs after
	d.log.Info("stopped")
	return runErr
}

// daemon is a running `newsdesk serve`: the store, the scheduler, the
// rendered sections, and the configuration, which it reloads when
// feeds.yaml changes or on SIGHUP.
type daemon struct {
	path       string // feeds.yaml
	listenFlag string // -listen, which overrides server.listen
	db         *store.DB
	log        *slog.Logger
	metrics    *metrics.Metrics
	site       *publisher.Server
	sched      *fetcher.Scheduler
	cfg        atomic.Pointer[Config]
	ready      atomic.Bool

	mu       sync.Mutex
	rejected []string // problems of the last reload attempt; empty when it applied
}

func (d *daemon) config() *Config { return d.cfg.Load() }

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

func (d *daemon) problems() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rejected
}

func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.Handler())
	mux.HandleFunc("GET /healthz", d.healthz)
	mux.HandleFunc("GET /readyz", d.readyz)
	mux.HandleFunc("GET /status", d.serveStatus)
	mux.HandleFunc("GET /status.json", d.serveStatus)
	mux.Handle("/", d.site)
	return d.metrics.Instrument(route, mux)
}

// serverConfig is the publisher's configuration in serve, which has the
// status page that a section without items links to.
func serverConfig(cfg *Config) publisher.Config {
	pc := publisherConfig(cfg)
	pc.StatusPath = "status"
	return pc
}

// route names the kind of request for metrics: a fixed set of labels.
func route(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == "/":
		return "index"
	case p == "/sections.opml":
		return "opml"
	case strings.HasPrefix(p, "/sections/"):
		switch filepath.Ext(p) {
		case ".rss", ".atom", ".json":
			return "feed"
		case ".gz":
			return "other"
		}
		return "section_page"
	case p == "/healthz", p == "/readyz", p == "/metrics", p == "/status", p == "/status.json":
		return strings.TrimPrefix(p, "/")
	}
	return "other"
}

// healthz is liveness: 200 while the process and its store answer; the
// body says "degraded" when the last reload of feeds.yaml was rejected.
func (d *daemon) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := d.db.Ping(); err != nil {
		http.Error(w, "store does not answer: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if ps := d.problems(); len(ps) > 0 {
		fmt.Fprintf(w, "degraded: %s has %s; the previous configuration keeps running\n%s\n", d.path, plural(len(ps), "problem"), strings.Join(ps, "\n"))
		return
	}
	fmt.Fprintln(w, "ok")
}

// readyz is readiness: the store answers and a configuration is loaded.
func (d *daemon) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !d.ready.Load() {
		http.Error(w, "not ready: starting or stopping", http.StatusServiceUnavailable)
		return
	}
	if err := d.db.Ping(); err != nil {
		http.Error(w, "not ready: store: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

func adminAuthorized(r *http.Request, token string) bool {
	got := r.URL.Query().Get("token")
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		got = strings.TrimSpace(h)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// committed is the scheduler's OnCommit: record the fetch, and re-render
// the sections the source feeds when it brought new or changed items, or
// changed how the sections show the source (its feed's title, id, date or
// authors, or the error an empty section names).
func (d *daemon) committed(o fetcher.Outcome) {
	st := o.State
	d.metrics.ObserveFetch(metrics.Fetch{Source: o.Source.ID, Result: o.Kind, Bytes: o.Bytes, New: st.New, Updated: st.Updated,
		Failures: st.Failures, LastSuccess: st.LastSuccess, NextDue: st.NextDue})
	if st.New+st.Updated == 0 && !d.site.Outdated(st) {
		return
	}
	cfg := d.config()
	var ids []string
	for _, sec := range cfg.Sections {
		if slices.Contains(sec.Sources, o.Source.ID) {
			ids = append(ids, sec.ID)
		}
	}
	if err := d.site.RebuildSections(ids...); err != nil {
		d.log.Error("could not render sections", "source", o.Source.ID, "sections", ids, "error", err)
		return
	}
	for _, sec := range cfg.Sections {
		if slices.Contains(ids, sec.ID) {
			d.observeSections(sec)
		}
	}
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
		if err := d.site.RebuildSections(ids...); err != nil {
			d.log.Error("could not render sections", "sections", ids, "error", err)
			continue
		}
		d.observeSections(aging...)
	}
}

// observeSections records the item counts of freshly rendered sections,
// as the publisher rendered them.
func (d *daemon) observeSections(secs ...newsdesk.Section) {
	now, counts := time.Now(), d.site.ItemCounts()
	for _, sec := range secs {
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
		if _, ok := d.config().Source(st.SourceID); ok {
			d.metrics.SetSource(st.SourceID, st.Failures, st.LastSuccess, st.NextDue)
		}
	}
	return nil
}

// watch reloads feeds.yaml when it changes, and on SIGHUP, until ctx is
// done. It watches the folder, not the file, so that editors that save by
// renaming a new file over the old one are seen too.
func (d *daemon) watch(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", d.path, err)
	}
	defer w.Close()
	abs, err := filepath.Abs(d.path)
	if err != nil {
		return err
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		return fmt.Errorf("watch %s: %w", filepath.Dir(abs), err)
	}
	// Editors write a file in several steps: reload once things settle.
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			d.log.Info("SIGHUP: reloading the configuration", "config", d.path)
			d.reload("sighup")
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Clean(ev.Name) == abs && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) != 0 {
				settle.Reset(100 * time.Millisecond)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			d.log.Warn("watching the configuration", "config", d.path, "error", err)
		case <-settle.C:
			d.reload("file")
		}
	}
}

// reload reads feeds.yaml again. A file with problems is rejected whole:
// the running configuration stays, and the problems are logged with their
// lines and shown by /healthz, /status and /metrics.
func (d *daemon) reload(trigger string) {
	cfg, err := LoadConfig(d.path)
	var ps Problems
	switch {
	case errors.As(err, &ps):
		lines := make([]string, len(ps))
		for i, p := range ps {
			lines[i] = p.String()
			d.log.Error("configuration rejected", "problem", p.String())
		}
		d.setRejected(lines)
		d.metrics.ConfigLoaded(trigger, len(ps), time.Now())
		d.log.Error("the previous configuration keeps running; fix the file to apply it", "config", d.path, "problems", len(ps))
		return
	case err != nil:
		d.setRejected([]string{err.Error()})
		d.metrics.ConfigLoaded(trigger, 1, time.Now())
		d.log.Error("configuration not reloaded; the previous one keeps running", "config", d.path, "error", err)
		return
	}
	old := d.config()
	if cfg.DBPath != old.DBPath {
		d.log.Warn("storage.path changed: restart newsdesk serve to use the new database; keeping "+old.DBPath, "config", d.path)
		cfg.DBPath = old.DBPath
	}
	if d.listenFlag != "" {
		cfg.Listen = d.listenFlag
	} else if cfg.Listen != old.Listen {
		d.log.Warn("server.listen changed: restart newsdesk serve to listen there", "config", d.path)
	}
	if cfg.Concurrency != old.Concurrency || cfg.PerHost != old.PerHost || cfg.UserAgentURL != old.UserAgentURL {
		d.log.Warn("fetch.concurrency, fetch.per_host and fetch.user_agent_url apply after a restart of newsdesk serve", "config", d.path)
	}
	d.cfg.Store(cfg)
	d.setRejected(nil)
	d.sched.SetSources(cfg.Sources)
	d.site.SetConfig(serverConfig(cfg))
	if err := d.site.Rebuild(); err != nil {
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
	d.metrics.ConfigLoaded(trigger, 0, time.Now())
	d.log.Info("configuration reloaded", "config", d.path, "sources", len(cfg.Sources), "sections", len(cfg.Sections))
}

func (d *daemon) setRejected(lines []string) {
	d.mu.Lock()
	d.rejected = lines
	d.mu.Unlock()
}
