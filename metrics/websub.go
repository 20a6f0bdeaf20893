package metrics

import "github.com/prometheus/client_golang/prometheus"

// WebSub (issue 14): newsdesk's hub (subscriptions per section, deliveries,
// subscribe and unsubscribe requests, pings of external hubs) and its
// push subscriptions at sources' hubs (pushes received, whether each is
// active). The label values are the constants below, a fixed set, so
// that no request can add a series; section and source labels are
// configured ids only.

// The results of a delivery to a subscriber's callback.
const (
	DeliveryOK     = "ok"      // the callback answered 2xx
	DeliveryFailed = "failed"  // it did not; tried again later
	DeliveryGaveUp = "gave_up" // failed for a day: the version is not tried again
	DeliveryGone   = "gone"    // it answered 410: the subscription ends
)

// The modes and results of a request to newsdesk's hub.
const (
	HubSubscribe   = "subscribe"
	HubUnsubscribe = "unsubscribe"
	HubAccepted    = "accepted" // 202, verification of intent follows
	HubRejected    = "rejected" // 4xx: a bad topic, callback, lease or secret, or a cap reached
)

// The results of a delivery a source's hub pushed to newsdesk.
const (
	PushIngested     = "ingested"      // signature valid, items stored
	PushBadSignature = "bad_signature" // dropped: the signature did not match
	PushUnsigned     = "unsigned"      // dropped: the subscription has a secret and the body no signature
	PushRejected     = "rejected"      // dropped: unknown callback, too large, not a feed
)

// The results of a ping (hub.mode=publish) of an external hub.
const (
	PingOK     = "ok"
	PingFailed = "failed"
)

// websubMetrics are the WebSub series of Metrics.
type websubMetrics struct {
	subscriptions *prometheus.GaugeVec
	deliveries    *prometheus.CounterVec
	hubRequests   *prometheus.CounterVec
	pushes        *prometheus.CounterVec
	pushActive    *prometheus.GaugeVec
	pings         *prometheus.CounterVec
}

// newWebSubMetrics makes the WebSub series, registered with reg. The
// counters whose labels are a fixed set start at 0, so that rates and
// alerts see them before the first event.
func newWebSubMetrics(reg *prometheus.Registry) websubMetrics {
	w := websubMetrics{
		subscriptions: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsdesk_websub_subscriptions",
			Help: "Readers' subscriptions at newsdesk's WebSub hub, by section, leases not ended (public sections only)."}, []string{"section"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_websub_deliveries_total",
			Help: "Deliveries of a section's new version to subscribers' callbacks, by result: ok, failed (tried again), gave_up, gone (410: unsubscribed)."}, []string{"result"}),
		hubRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_websub_hub_requests_total",
			Help: "Subscribe and unsubscribe requests to newsdesk's hub, by mode and result: accepted (verification follows), rejected."}, []string{"mode", "result"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_websub_pushes_total",
			Help: "Deliveries sources' hubs pushed to newsdesk, by source and result: ingested, bad_signature, unsigned, rejected."}, []string{"source", "result"}),
		pushActive: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsdesk_websub_push_active",
			Help: "1 while a source's hub pushes its items to newsdesk (subscription verified, lease not ended), else 0."}, []string{"source"}),
		pings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsdesk_websub_pings_total",
			Help: "Pings (hub.mode=publish) of the external hubs of publish.websub_hubs after a section changed, by result: ok, failed."}, []string{"result"}),
	}
	for _, r := range []string{DeliveryOK, DeliveryFailed, DeliveryGaveUp, DeliveryGone} {
		w.deliveries.WithLabelValues(r)
	}
	for _, mode := range []string{HubSubscribe, HubUnsubscribe} {
		for _, r := range []string{HubAccepted, HubRejected} {
			w.hubRequests.WithLabelValues(mode, r)
		}
	}
	for _, r := range []string{PingOK, PingFailed} {
		w.pings.WithLabelValues(r)
	}
	reg.MustRegister(w.subscriptions, w.deliveries, w.hubRequests, w.pushes, w.pushActive, w.pings)
	return w
}

// SetWebSubSubscriptions sets the hub's subscription count of each
// section (by section id, public sections only) from the store; sections
// not in counts drop their series.
func (m *Metrics) SetWebSubSubscriptions(counts map[string]int) {
	m.websub.subscriptions.Reset()
	for section, n := range counts {
		m.websub.subscriptions.WithLabelValues(section).Set(float64(n))
	}
}

// ObserveDelivery counts a delivery to a subscriber's callback, by its
// result (DeliveryOK, DeliveryFailed, DeliveryGaveUp, DeliveryGone).
func (m *Metrics) ObserveDelivery(result string) {
	m.websub.deliveries.WithLabelValues(result).Inc()
}

// ObserveHubRequest counts a request to newsdesk's hub: mode HubSubscribe
// or HubUnsubscribe, result HubAccepted or HubRejected.
func (m *Metrics) ObserveHubRequest(mode, result string) {
	m.websub.hubRequests.WithLabelValues(mode, result).Inc()
}

// ObservePush counts a delivery a source's hub pushed, by its result
// (PushIngested, PushBadSignature, PushUnsigned, PushRejected). source is
// a configured source's id.
func (m *Metrics) ObservePush(source, result string) {
	m.websub.pushes.WithLabelValues(source, result).Inc()
}

// SetPushActive records whether a source's hub pushes its items.
func (m *Metrics) SetPushActive(source string, active bool) {
	v := 0.0
	if active {
		v = 1
	}
	m.websub.pushActive.WithLabelValues(source).Set(v)
}

// ObservePing counts a ping of an external hub (PingOK, PingFailed).
func (m *Metrics) ObservePing(result string) {
	m.websub.pings.WithLabelValues(result).Inc()
}

// ObservePushedItems counts the items a push from a source's hub stored
// new and changed, in the same series as a fetch's.
func (m *Metrics) ObservePushedItems(source string, added, updated int) {
	m.itemsNew.WithLabelValues(source).Add(float64(added))
	m.itemsUpd.WithLabelValues(source).Add(float64(updated))
}
