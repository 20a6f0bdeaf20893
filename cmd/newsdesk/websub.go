package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/fetcher"
	"github.com/newsdesk/newsdesk/internal/netguard"
	"github.com/newsdesk/newsdesk/metrics"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/websub"
)

// WebSub in serve (issue 14): the hub of the sections at BASE/websub,
// delivering each new section version to its subscribers, and the
// subscriber of the sources whose feeds advertise a hub, taking their
// pushes at BASE/websub/callback/SOURCE/TOKEN. Both keep their state in
// the store, so a restart, or another instance on a shared store, goes on
// where this one stopped.

// hubPath is the route of newsdesk's hub.
const hubPath = "/websub"

// ownHub is the hub URL serve advertises: BASE/websub.
func ownHub(cfg *config.Config) string { return cfg.BaseURL + "websub" }

// startWebSub makes serve's hub and subscriber and hooks them to the
// scheduler. server.base_url and server.websub_allow_private are read
// here, once: a reload that changes them says they apply after a
// restart.
func (d *daemon) startWebSub(cfg *config.Config) {
	now := time.Now
	holder := d.member.ID()
	if d.member != nil {
		now = d.member.now
	} else {
		host, _ := os.Hostname()
		holder = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	d.hub = &websub.Hub{
		Store:        d.db,
		Site:         d.site,
		URL:          ownHub(cfg),
		AllowPrivate: cfg.WebSubAllowPrivate,
		Holder:       holder,
		Now:          now,
		Log:          d.log,
		CountRequest: func(mode, outcome string) {
			if mode != metrics.HubSubscribe && mode != metrics.HubUnsubscribe {
				return // a malformed request's mode is not a label
			}
			result := metrics.HubRejected
			if outcome == "accepted" {
				result = metrics.HubAccepted
			}
			d.metrics.ObserveHubRequest(mode, result)
		},
		CountDelivery: func(outcome string) {
			switch outcome {
			case "sent":
				d.metrics.ObserveDelivery(metrics.DeliveryOK)
			case "retry":
				d.metrics.ObserveDelivery(metrics.DeliveryFailed)
			case "gave_up":
				d.metrics.ObserveDelivery(metrics.DeliveryGaveUp)
			case "gone", "ended":
				d.metrics.ObserveDelivery(metrics.DeliveryGone)
			}
		},
	}
	base := ""
	if cfg.WebSubReachable() {
		base = cfg.BaseURL
	}
	d.sub = &websub.Subscriber{
		Store:   d.db,
		BaseURL: base,
		Client:  hubClient(cfg.WebSubAllowPrivate),
		Now:     now,
		Log:     d.log,
		Ingest: func(ctx context.Context, sourceID string, body []byte, contentType string) error {
			_, err := d.sched.Ingest(ctx, sourceID, body, contentType)
			return err
		},
		Sources: func() []newsdesk.Source { return d.config().Sources },
		OnDelivery: func(sourceID, result string) {
			if _, ok := d.config().Source(sourceID); !ok {
				return // not a configured source: not a label
			}
			switch result {
			case "ok":
				d.metrics.ObservePush(sourceID, metrics.PushIngested)
			case "bad_signature":
				d.metrics.ObservePush(sourceID, metrics.PushBadSignature)
			case "unsigned":
				d.metrics.ObservePush(sourceID, metrics.PushUnsigned)
			default:
				d.metrics.ObservePush(sourceID, metrics.PushRejected)
			}
		},
	}
	d.sched.OnPush = d.pushed
	d.sched.PushActive = d.sub.PushActive
}

// hubClient is the client of the subscriber's requests to sources' hubs:
// a hub named by a feed is anyone's choice, so it goes through the
// address guard unless server.websub_allow_private says otherwise.
func hubClient(allowPrivate bool) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if !allowPrivate {
		t = netguard.Transport(t)
	}
	return &http.Client{Transport: t, Timeout: websub.HubTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// runWebSub runs the hub's worker and the subscriber's renewals until ctx
// ends.
func (d *daemon) runWebSub(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.hub.Run(ctx)
	}()
	if err := d.sub.Run(ctx); err != nil && ctx.Err() == nil {
		d.log.Error("websub: the subscriber stopped", "error", err)
	}
	<-done
}

// pushed is the scheduler's OnPush: what a source's hub pushed is stored;
// its sections are rendered again when it brought anything.
func (d *daemon) pushed(sourceID string, res store.PushResult) {
	d.metrics.ObservePushedItems(sourceID, res.New, res.Updated)
	if res.New+res.Updated == 0 {
		return
	}
	d.renderSections(sectionsOf(d.config(), []string{sourceID}, nil))
}

// subscribeAfter is the part of the scheduler's OnCommit that is the
// subscriber's: after a source's fetch, subscribe at its hub, renew, or
// unsubscribe, off the scheduler's goroutine.
func (d *daemon) subscribeAfter(o fetcher.Outcome) {
	if d.sub == nil || (!o.Source.WebSub && o.State.WebSub.IsZero()) {
		return
	}
	d.websubWork.Go(func() { d.sub.After(d.websubCtx, o.State) })
}

// tidyWebSub ends, at their hubs, the subscriptions of sources that a
// reload removed or turned websub off for.
func (d *daemon) tidyWebSub(cfg *config.Config) {
	if d.sub == nil {
		return
	}
	d.websubWork.Go(func() {
		if err := d.sub.Tidy(d.websubCtx, cfg.Sources); err != nil && d.websubCtx.Err() == nil {
			d.log.Error("websub: could not end the subscriptions of sources removed or with websub off", "error", err)
		}
	})
}

// renderedVersions tells the hub that sections were rendered (a changed version
// is delivered to their subscribers) and pings publish.websub_hubs for
// the public sections whose version changed.
func (d *daemon) renderedVersions(before, after map[string]time.Time) {
	if d.hub == nil {
		return
	}
	d.hub.Poke()
	cfg := d.config()
	if len(cfg.WebSubHubs) == 0 {
		return
	}
	topics := changedTopics(cfg, before, after)
	if len(topics) == 0 {
		return
	}
	d.websubWork.Go(func() { d.ping(d.websubCtx, cfg.WebSubHubs, topics) })
}

// ping pings the hubs about the topics and counts the outcome.
func (d *daemon) ping(ctx context.Context, hubs, topics []string) {
	if err := d.hub.Ping(ctx, hubs, topics); err != nil {
		d.metrics.ObservePing(metrics.PingFailed)
		return
	}
	d.metrics.ObservePing(metrics.PingOK)
}

// changedTopics are the URLs of every file of the public sections whose
// version in after differs from before: what external hubs are pinged
// about.
func changedTopics(cfg *config.Config, before, after map[string]time.Time) []string {
	var topics []string
	for _, sec := range cfg.Sections {
		at, ok := after[sec.ID]
		if sec.Token != "" || !ok || at.Equal(before[sec.ID]) {
			continue
		}
		for _, ext := range []string{".rss", ".atom", ".json", ".html"} {
			topics = append(topics, cfg.BaseURL+"sections/"+sec.ID+ext)
		}
	}
	return topics
}

// pingAfterExport pings publish.websub_hubs after `run` wrote the static
// export, for the public sections whose stored version it changed.
func pingAfterExport(ctx context.Context, cfg *config.Config, db store.Store, before map[string]newsdesk.SectionVersion, log *slog.Logger) {
	after, err := db.SectionVersions()
	if err != nil {
		log.Warn("websub: could not read the section versions to ping hubs", "error", err)
		return
	}
	topics := changedTopics(cfg, changedAtOf(before), changedAtOf(after))
	if len(topics) == 0 {
		return
	}
	hub := &websub.Hub{Log: log}
	hub.Ping(ctx, cfg.WebSubHubs, topics) // each failure is logged by Ping
}

// changedAtOf are the ChangedAt of versions, by section id.
func changedAtOf(versions map[string]newsdesk.SectionVersion) map[string]time.Time {
	out := make(map[string]time.Time, len(versions))
	for id, v := range versions {
		out[id] = v.ChangedAt
	}
	return out
}

// observeWebSub sets the WebSub gauges from the store, for a scrape of
// /metrics: the subscriptions at the hub per public section (leases not
// ended), and whether each source's hub pushes.
func (d *daemon) observeWebSub() {
	cfg := d.config()
	now := time.Now()
	counts := map[string]int{}
	for _, sec := range cfg.Sections {
		if sec.Token == "" {
			counts[sec.ID] = 0
		}
	}
	err := d.db.HubSubscriptions(func(s newsdesk.HubSubscription) bool {
		if _, public := counts[s.Section]; public && now.Before(s.Expires) {
			counts[s.Section]++
		}
		return true
	})
	if err == nil {
		d.metrics.SetWebSubSubscriptions(counts)
	}
	subs, err := d.db.PushSubscriptions()
	if err != nil {
		return
	}
	for _, src := range cfg.Sources {
		i := slices.IndexFunc(subs, func(p newsdesk.PushSubscription) bool { return p.SourceID == src.ID })
		d.metrics.SetPushActive(src.ID, i >= 0 && subs[i].Active(now))
	}
}

var _ websub.Site = (*publisher.Server)(nil)
