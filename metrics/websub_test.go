package metrics_test

import (
	"testing"

	"github.com/newsdesk/newsdesk/metrics"
)

func TestWebSubMetrics(t *testing.T) {
	m := metrics.New()
	// Before anything happens, the fixed-label counters are there at 0.
	fams := scrape(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"newsdesk_websub_deliveries_total", map[string]string{"result": "gave_up"}},
		{"newsdesk_websub_hub_requests_total", map[string]string{"mode": "unsubscribe", "result": "rejected"}},
		{"newsdesk_websub_pings_total", map[string]string{"result": "failed"}},
	} {
		if got := value(t, fams, c.name, c.labels); got != 0 {
			t.Errorf("%s%v at start = %v, want 0", c.name, c.labels, got)
		}
	}

	m.SetWebSubSubscriptions(map[string]int{"russia": 3, "world": 1})
	m.SetWebSubSubscriptions(map[string]int{"russia": 2}) // world's last lease ended
	for range 3 {
		m.ObserveDelivery(metrics.DeliveryOK)
	}
	m.ObserveDelivery(metrics.DeliveryFailed)
	m.ObserveDelivery(metrics.DeliveryGone)
	m.ObserveHubRequest(metrics.HubSubscribe, metrics.HubAccepted)
	m.ObserveHubRequest(metrics.HubSubscribe, metrics.HubAccepted)
	m.ObserveHubRequest(metrics.HubSubscribe, metrics.HubRejected)
	m.ObservePush("moscow-times", metrics.PushIngested)
	m.ObservePush("moscow-times", metrics.PushBadSignature)
	m.ObservePush("broken", metrics.PushUnsigned)
	m.SetPushActive("moscow-times", true)
	m.SetPushActive("broken", false)
	m.ObservePing(metrics.PingOK)

	fams = scrape(t, m.Handler())
	mt := "moscow-times"
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"newsdesk_websub_subscriptions", map[string]string{"section": "russia"}, 2},
		{"newsdesk_websub_deliveries_total", map[string]string{"result": "ok"}, 3},
		{"newsdesk_websub_deliveries_total", map[string]string{"result": "failed"}, 1},
		{"newsdesk_websub_deliveries_total", map[string]string{"result": "gone"}, 1},
		{"newsdesk_websub_deliveries_total", map[string]string{"result": "gave_up"}, 0},
		{"newsdesk_websub_hub_requests_total", map[string]string{"mode": "subscribe", "result": "accepted"}, 2},
		{"newsdesk_websub_hub_requests_total", map[string]string{"mode": "subscribe", "result": "rejected"}, 1},
		{"newsdesk_websub_pushes_total", map[string]string{"source": mt, "result": "ingested"}, 1},
		{"newsdesk_websub_pushes_total", map[string]string{"source": mt, "result": "bad_signature"}, 1},
		{"newsdesk_websub_pushes_total", map[string]string{"source": "broken", "result": "unsigned"}, 1},
		{"newsdesk_websub_push_active", map[string]string{"source": mt}, 1},
		{"newsdesk_websub_push_active", map[string]string{"source": "broken"}, 0},
		{"newsdesk_websub_pings_total", map[string]string{"result": "ok"}, 1},
	} {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := len(fams["newsdesk_websub_subscriptions"].GetMetric()); n != 1 {
		t.Errorf("newsdesk_websub_subscriptions has %d series, want 1: world's went with its last subscription", n)
	}

	m.ForgetSource("broken")
	m.ForgetSection("russia")
	fams = scrape(t, m.Handler())
	if n := len(fams["newsdesk_websub_pushes_total"].GetMetric()); n != 2 {
		t.Errorf("after ForgetSource, push series = %d, want moscow-times's 2", n)
	}
	if n := len(fams["newsdesk_websub_push_active"].GetMetric()); n != 1 {
		t.Errorf("after ForgetSource, push_active series = %d, want moscow-times's", n)
	}
	if _, ok := fams["newsdesk_websub_subscriptions"]; ok {
		t.Errorf("after ForgetSection, subscriptions = %v, want none", fams["newsdesk_websub_subscriptions"].GetMetric())
	}
}
