package websub

import (
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

func TestPlan(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	on := newsdesk.Source{ID: "a", WebSub: true}
	off := newsdesk.Source{ID: "a"}
	links := newsdesk.WebSubLinks{Hubs: []string{"https://hub.example/", "https://hub2.example/"}, Self: "https://example.org/feed"}
	base := "https://newsdesk.example"
	sub := func(state newsdesk.PushState, hub string, mod func(*newsdesk.PushSubscription)) newsdesk.PushSubscription {
		p := newsdesk.PushSubscription{SourceID: "a", Hub: hub, Topic: links.Self, State: state, Token: "tok",
			RequestedAt: now.Add(-time.Hour), LeaseEnd: now.Add(time.Hour)}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	active := sub(newsdesk.PushActive, "https://hub.example/", nil)
	tests := []struct {
		name  string
		src   newsdesk.Source
		base  string
		links newsdesk.WebSubLinks
		sub   newsdesk.PushSubscription
		found bool
		want  Step
	}{
		{"new", on, base, links, newsdesk.PushSubscription{}, false,
			Step{Subscribe: true, Hub: "https://hub.example/", Topic: links.Self, Why: "new"}},
		{"no base url", on, "", links, newsdesk.PushSubscription{}, false, Step{}},
		{"off, none", off, base, links, newsdesk.PushSubscription{}, false, Step{}},
		{"no hub advertised, none", on, base, newsdesk.WebSubLinks{Self: links.Self}, newsdesk.PushSubscription{}, false, Step{}},
		{"active, not half over", on, base, links, sub(newsdesk.PushActive, "https://hub.example/", func(p *newsdesk.PushSubscription) { p.LeaseEnd = now.Add(2 * time.Hour) }), true, Step{}},
		{"active, half over: renew", on, base, links, active, true,
			Step{Subscribe: true, Renew: true, Hub: "https://hub.example/", Topic: links.Self, Why: "renewal"}},
		{"active at the second hub advertised: kept", on, base, links, sub(newsdesk.PushActive, "https://hub2.example/", func(p *newsdesk.PushSubscription) { p.LeaseEnd = now.Add(2 * time.Hour) }), true, Step{}},
		{"lease ended", on, base, links, sub(newsdesk.PushActive, "https://hub.example/", func(p *newsdesk.PushSubscription) { p.LeaseEnd = now.Add(-2 * time.Hour) }), true,
			Step{Subscribe: true, Renew: true, Hub: "https://hub.example/", Topic: links.Self, Why: "lease ended"}},
		{"hub changed", on, base, links, sub(newsdesk.PushActive, "https://old.example/", nil), true,
			Step{Unsubscribe: true, Subscribe: true, Hub: "https://hub.example/", Topic: links.Self, Why: "hub or topic changed"}},
		{"topic changed, failed one", on, base, links, sub(newsdesk.PushFailed, "https://hub.example/", func(p *newsdesk.PushSubscription) { p.Topic = "https://example.org/old" }), true,
			Step{Subscribe: true, Hub: "https://hub.example/", Topic: links.Self, Why: "hub or topic changed"}},
		{"failed, not yet", on, base, links, sub(newsdesk.PushFailed, "https://hub.example/", func(p *newsdesk.PushSubscription) { p.NextTry = now.Add(time.Minute) }), true, Step{}},
		{"failed, retry due", on, base, links, sub(newsdesk.PushFailed, "https://hub.example/", func(p *newsdesk.PushSubscription) { p.NextTry = now }), true,
			Step{Subscribe: true, Renew: true, Hub: "https://hub.example/", Topic: links.Self, Why: "retry"}},
		{"requested, waiting", on, base, links, sub(newsdesk.PushRequested, "https://hub.example/", func(p *newsdesk.PushSubscription) { p.RequestedAt = now.Add(-time.Minute) }), true, Step{}},
		{"requested, never verified", on, base, links, sub(newsdesk.PushRequested, "https://hub.example/", nil), true,
			Step{Subscribe: true, Renew: true, Hub: "https://hub.example/", Topic: links.Self, Why: "not verified"}},
		{"denied stays denied", on, base, links, sub(newsdesk.PushDenied, "https://hub.example/", nil), true, Step{}},
		{"websub on again", on, base, links, sub(newsdesk.PushUnsubscribing, "https://hub.example/", nil), true,
			Step{Subscribe: true, Hub: "https://hub.example/", Topic: links.Self, Why: "websub on again"}},
		{"off: unsubscribe active", off, base, links, active, true,
			Step{Unsubscribe: true, Hub: "https://hub.example/", Topic: links.Self, Why: "websub off"}},
		{"hub no longer advertised: unsubscribe", on, base, newsdesk.WebSubLinks{}, active, true,
			Step{Unsubscribe: true, Hub: "https://hub.example/", Topic: links.Self, Why: "no hub advertised"}},
		{"off: forget failed", off, base, links, sub(newsdesk.PushFailed, "https://hub.example/", nil), true, Step{Delete: true, Why: "websub off"}},
		{"off: unsubscribing waits", off, base, links, sub(newsdesk.PushUnsubscribing, "https://hub.example/", nil), true, Step{}},
		{"off: unsubscribing never verified: forget", off, base, links, sub(newsdesk.PushUnsubscribing, "https://hub.example/", func(p *newsdesk.PushSubscription) { p.RequestedAt = now.Add(-25 * time.Hour) }), true,
			Step{Delete: true, Why: "websub off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Plan(tt.src, tt.base, tt.links, tt.sub, tt.found, now); got != tt.want {
				t.Errorf("Plan() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
