package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/metrics"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches and parses the metrics as Prometheus would.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("metrics are not valid Prometheus text: %v", err)
	}
	return families
}

func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	for _, m := range f.GetMetric() {
		match := true
		for k, v := range labels {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

func TestMetrics(t *testing.T) {
	m := metrics.New()
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	m.ObserveFetch(metrics.Fetch{Source: "moscow-times", Result: "ok", Bytes: 4096, New: 5, LastSuccess: at, NextDue: at.Add(10 * time.Minute)})
	m.ObserveFetch(metrics.Fetch{Source: "moscow-times", Result: "not_modified", LastSuccess: at.Add(time.Minute), NextDue: at.Add(11 * time.Minute)})
	m.ObserveFetch(metrics.Fetch{Source: "broken", Result: "http_404", Failures: 3, NextDue: at.Add(time.Hour)})
	m.ObserveArticles(metrics.Articles{Source: "moscow-times", Results: map[string]int{"ok": 3, "http_404": 1}, Pending: 7})
	m.ObserveArticles(metrics.Articles{Source: "moscow-times", Results: map[string]int{"ok": 2, "disallowed": 1}, Pending: 4})
	m.ObserveRender("russia", 3, at.Add(-time.Second))
	m.ObserveRender("russia", 5, at)
	m.ConfigLoaded("sighup", 2, at)
	h := m.Instrument(func(r *http.Request) string { return "feed" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	}))
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/sections/russia.atom", nil))
	}

	fams := scrape(t, m.Handler())
	src := map[string]string{"source": "moscow-times"}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"newsdesk_source_fetches_total", map[string]string{"source": "moscow-times", "result": "ok"}, 1},
		{"newsdesk_source_fetches_total", map[string]string{"source": "moscow-times", "result": "not_modified"}, 1},
		{"newsdesk_source_fetches_total", map[string]string{"source": "broken", "result": "http_404"}, 1},
		{"newsdesk_source_received_bytes_total", src, 4096},
		{"newsdesk_source_items_new_total", src, 5},
		{"newsdesk_source_items_updated_total", src, 0},
		{"newsdesk_source_consecutive_failures", map[string]string{"source": "broken"}, 3},
		{"newsdesk_source_last_success_timestamp_seconds", src, float64(at.Add(time.Minute).Unix())},
		{"newsdesk_source_next_due_timestamp_seconds", src, float64(at.Add(11 * time.Minute).Unix())},
		{"newsdesk_article_fetches_total", map[string]string{"source": "moscow-times", "result": "ok"}, 5},
		{"newsdesk_article_fetches_total", map[string]string{"source": "moscow-times", "result": "http_404"}, 1},
		{"newsdesk_article_fetches_total", map[string]string{"source": "moscow-times", "result": "disallowed"}, 1},
		{"newsdesk_source_articles_pending", src, 4},
		{"newsdesk_section_items", map[string]string{"section": "russia"}, 5},
		{"newsdesk_section_last_render_timestamp_seconds", map[string]string{"section": "russia"}, float64(at.Unix())},
		{"newsdesk_section_renders_total", map[string]string{"section": "russia"}, 2},
		{"newsdesk_http_requests_total", map[string]string{"route": "feed", "code": "304"}, 3},
		{"newsdesk_http_request_duration_seconds", map[string]string{"route": "feed"}, 3},
		{"newsdesk_config_errors", nil, 2},
		{"newsdesk_config_reloads_total", map[string]string{"trigger": "sighup", "result": "rejected"}, 1},
	}
	for _, c := range checks {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_resident_memory_bytes"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no runtime metric %s", name)
		}
	}

	m.ObserveArticles(metrics.Articles{Source: "broken", Results: map[string]int{"timeout": 1}, Pending: 1})
	m.ForgetSource("broken")
	if fams := scrape(t, m.Handler()); len(fams["newsdesk_article_fetches_total"].GetMetric()) != 3 || len(fams["newsdesk_source_articles_pending"].GetMetric()) != 1 {
		t.Errorf("after ForgetSource, article series = %v, %v, want only moscow-times", fams["newsdesk_article_fetches_total"].GetMetric(), fams["newsdesk_source_articles_pending"].GetMetric())
	}
	if fams := scrape(t, m.Handler()); len(fams["newsdesk_source_consecutive_failures"].GetMetric()) != 1 {
		t.Errorf("after ForgetSource, failures series = %v, want only moscow-times", fams["newsdesk_source_consecutive_failures"].GetMetric())
	}
}
