// Package metrics exposes newsdesk's health to Prometheus: per source, what
// each fetch got; per section, what was rendered; per route, how HTTP
// requests went; and the Go runtime. It is the only package that imports
// client_golang. It must not decide anything: it records what the other
// packages report.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is newsdesk's Prometheus registry.
type Metrics struct {
	reg *prometheus.Registry

	fetches     *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	itemsNew    *prometheus.CounterVec
	itemsUpd    *prometheus.CounterVec
	failures    *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	nextDue     *prometheus.GaugeVec

	articleFetches  *prometheus.CounterVec
	articlesPending *prometheus.GaugeVec

	sectionItems   *prometheus.GaugeVec
	sectionRender  *prometheus.GaugeVec
	sectionRenders *prometheus.CounterVec

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	configErrors  prometheus.Gauge
	configLoaded  prometheus.Gauge
	configReloads *prometheus.CounterVec

	storeHealthy prometheus.Gauge

	websub websubMetrics
}

// New returns a registry with every newsdesk metric and the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	source := []string{"source"}
	m.fetches = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_source_fetches_total",
		Help: "Fetches of each source by result: ok, not_modified, or the error kind (timeout, dns, tls, connection, auth, http_404, http_429, http_5xx, not_a_feed, parse, ...)."}, []string{"source", "result"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_source_received_bytes_total",
		Help: "Feed bytes received from each source, after decompression."}, source)
	m.itemsNew = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_source_items_new_total",
		Help: "New items stored from each source."}, source)
	m.itemsUpd = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_source_items_updated_total",
		Help: "Stored items of each source changed in place by a fetch."}, source)
	m.failures = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsdesk_source_consecutive_failures",
		Help: "Failed fetches in a row for each source (0 after a success)."}, source)
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsdesk_source_last_success_timestamp_seconds",
		Help: "When each source was last fetched successfully (ok or not modified), Unix time."}, source)
	m.nextDue = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsdesk_source_next_due_timestamp_seconds",
		Help: "When each source is fetched next, Unix time."}, source)
	m.articleFetches = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_article_fetches_total",
		Help: "Article pages of full-text sources tried, by result: ok, or the reason the item keeps the feed's summary (http_404, timeout, too_short, no_article, selector, not_html, disallowed, robots_unreachable, private_address, ...)."}, []string{"source", "result"})
	m.articlesPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsdesk_source_articles_pending",
		Help: "Articles of each full-text source still to be fetched: new items without one, and failed ones awaiting a retry."}, source)
	m.sectionItems = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsdesk_section_items",
		Help: "Items in each section's feeds at the last render."}, []string{"section"})
	m.sectionRender = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsdesk_section_last_render_timestamp_seconds",
		Help: "When each section was last rendered, Unix time."}, []string{"section"})
	m.sectionRenders = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_section_renders_total",
		Help: "Renders of each section (at start, after commits that change it, at most one a second, and after reloads)."}, []string{"section"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_http_requests_total",
		Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "newsdesk_http_request_duration_seconds",
		Help: "Time to answer HTTP requests, by route.", Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}, []string{"route"})
	m.configErrors = prometheus.NewGauge(prometheus.GaugeOpts{Name: "newsdesk_config_errors",
		Help: "Problems in feeds.yaml at the last reload; while above 0 the previous config keeps running."})
	m.configLoaded = prometheus.NewGauge(prometheus.GaugeOpts{Name: "newsdesk_config_last_load_success_timestamp_seconds",
		Help: "When feeds.yaml was last loaded without problems, Unix time."})
	m.configReloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_config_reloads_total",
		Help: "Reloads of feeds.yaml by trigger (file, sighup) and result (applied, rejected)."}, []string{"trigger", "result"})
	m.storeHealthy = prometheus.NewGauge(prometheus.GaugeOpts{Name: "newsdesk_store_healthy",
		Help: "1 while the database answers and the last render could read it; 0 while serve serves the feeds it rendered last (see /healthz and /status for why)."})
	m.reg.MustRegister(m.storeHealthy, m.configReloads, m.fetches, m.bytes, m.itemsNew, m.itemsUpd, m.failures, m.lastSuccess, m.nextDue,
		m.articleFetches, m.articlesPending, m.sectionItems, m.sectionRender, m.sectionRenders, m.requests, m.latency, m.configErrors, m.configLoaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.websub = newWebSubMetrics(m.reg)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Fetch is one finished fetch of a source, as the scheduler reports it.
type Fetch struct {
	Source      string
	Result      string // "ok", "not_modified", or an error kind
	Bytes       int64
	New         int
	Updated     int
	Failures    int
	LastSuccess time.Time
	NextDue     time.Time
}

// ObserveFetch records a finished fetch.
func (m *Metrics) ObserveFetch(f Fetch) {
	m.fetches.WithLabelValues(f.Source, f.Result).Inc()
	m.bytes.WithLabelValues(f.Source).Add(float64(f.Bytes))
	m.itemsNew.WithLabelValues(f.Source).Add(float64(f.New))
	m.itemsUpd.WithLabelValues(f.Source).Add(float64(f.Updated))
	m.SetSource(f.Source, f.Failures, f.LastSuccess, f.NextDue)
}

// SetSource sets a source's gauges, from its stored state at start-up or
// after a fetch.
func (m *Metrics) SetSource(source string, failures int, lastSuccess, nextDue time.Time) {
	m.failures.WithLabelValues(source).Set(float64(failures))
	if !lastSuccess.IsZero() {
		m.lastSuccess.WithLabelValues(source).Set(float64(lastSuccess.UnixNano()) / 1e9)
	}
	if !nextDue.IsZero() {
		m.nextDue.WithLabelValues(source).Set(float64(nextDue.UnixNano()) / 1e9)
	}
}

// ForgetSource drops a source's series, when feeds.yaml no longer has it.
func (m *Metrics) ForgetSource(source string) {
	for _, v := range []*prometheus.MetricVec{m.fetches.MetricVec, m.bytes.MetricVec, m.itemsNew.MetricVec, m.itemsUpd.MetricVec,
		m.failures.MetricVec, m.lastSuccess.MetricVec, m.nextDue.MetricVec, m.articleFetches.MetricVec, m.articlesPending.MetricVec,
		m.websub.pushes.MetricVec, m.websub.pushActive.MetricVec} {
		v.DeletePartialMatch(prometheus.Labels{"source": source})
	}
}

// Articles is one article pass of a full-text source, as the scheduler
// reports it (fetcher.Outcome.Articles).
type Articles struct {
	Source  string
	Results map[string]int // attempts by result: "ok" or the error kind
	Pending int            // articles still to fetch after the pass
}

// ObserveArticles records an article pass, or sets a full-text source's
// pending count alone (Results nil: at start-up, from the store).
func (m *Metrics) ObserveArticles(a Articles) {
	for result, n := range a.Results {
		m.articleFetches.WithLabelValues(a.Source, result).Add(float64(n))
	}
	m.articlesPending.WithLabelValues(a.Source).Set(float64(a.Pending))
}

// ObserveRender records a section's render.
func (m *Metrics) ObserveRender(section string, items int, at time.Time) {
	m.sectionItems.WithLabelValues(section).Set(float64(items))
	m.sectionRender.WithLabelValues(section).Set(float64(at.UnixNano()) / 1e9)
	m.sectionRenders.WithLabelValues(section).Inc()
}

// ForgetSection drops a section's series.
func (m *Metrics) ForgetSection(section string) {
	m.sectionItems.DeletePartialMatch(prometheus.Labels{"section": section})
	m.sectionRender.DeletePartialMatch(prometheus.Labels{"section": section})
	m.sectionRenders.DeletePartialMatch(prometheus.Labels{"section": section})
	m.websub.subscriptions.DeletePartialMatch(prometheus.Labels{"section": section})
}

// ConfigProblems sets newsdesk_config_errors alone: serve calls it when a
// reloaded configuration takes effect, with /healthz, and ConfigLoaded
// once the reload is done (rendered, and counted).
func (m *Metrics) ConfigProblems(problems int) { m.configErrors.Set(float64(problems)) }

// ConfigLoaded records a load of feeds.yaml: problems is 0 when it was
// applied; trigger is what caused it (start, file, sighup).
func (m *Metrics) ConfigLoaded(trigger string, problems int, at time.Time) {
	m.configErrors.Set(float64(problems))
	if problems == 0 {
		m.configLoaded.Set(float64(at.UnixNano()) / 1e9)
	}
	if trigger == "start" {
		return
	}
	result := "applied"
	if problems > 0 {
		result = "rejected"
	}
	m.configReloads.WithLabelValues(trigger, result).Inc()
}

// SetStoreHealthy records whether the store answers and could be read.
func (m *Metrics) SetStoreHealthy(ok bool) {
	v := 0.0
	if ok {
		v = 1
	}
	m.storeHealthy.Set(v)
}

// Instrument counts and times the requests next answers, labelled by the
// route that route names for each request (a fixed set, never the raw
// path, so that scanners cannot blow up the series).
func (m *Metrics) Instrument(route func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		name := route(r)
		m.requests.WithLabelValues(name, strconv.Itoa(rec.code)).Inc()
		m.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
