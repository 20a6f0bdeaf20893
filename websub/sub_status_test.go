package websub

import (
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

func TestPushStatus(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	on := newsdesk.Source{ID: "a", WebSub: true}
	links := newsdesk.WebSubLinks{Hubs: []string{"https://hub.example/"}, Self: "https://example.org/feed"}
	p := newsdesk.PushSubscription{SourceID: "a", Hub: "https://hub.example/", Topic: links.Self, Token: "tok", Secret: "sec"}
	with := func(state newsdesk.PushState, mod func(*newsdesk.PushSubscription)) newsdesk.PushSubscription {
		q := p
		q.State = state
		if mod != nil {
			mod(&q)
		}
		return q
	}
	tests := []struct {
		name  string
		src   newsdesk.Source
		base  string
		links newsdesk.WebSubLinks
		p     newsdesk.PushSubscription
		found bool
		want  string
	}{
		{"off", newsdesk.Source{ID: "a"}, "https://n.example", links, p, false, ""},
		{"no base url", on, "", links, p, false, "server.base_url is not set"},
		{"not offered", on, "https://n.example", newsdesk.WebSubLinks{}, p, false, "push not offered"},
		{"active", on, "https://n.example", links, with(newsdesk.PushActive, func(q *newsdesk.PushSubscription) { q.LeaseEnd = now.Add(time.Hour) }), true, "push active until 2026-12-01T13:00:00Z"},
		{"denied", on, "https://n.example", links, with(newsdesk.PushDenied, func(q *newsdesk.PushSubscription) { q.Reason = "denied by the hub: no" }), true, "verification failed: denied by the hub: no"},
		{"failed", on, "https://n.example", links, with(newsdesk.PushFailed, func(q *newsdesk.PushSubscription) { q.Reason = "hub answered 500"; q.NextTry = now }), true, "request failed: hub answered 500; next try 2026-12-01T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PushStatus(tt.src, tt.base, tt.links, tt.p, tt.found, now)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("PushStatus() = %q, want it to say %q", got, tt.want)
			}
			if strings.Contains(got, "tok") || strings.Contains(got, "sec") {
				t.Errorf("PushStatus() = %q shows the token or secret", got)
			}
		})
	}
}
