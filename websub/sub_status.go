package websub

import (
	"time"

	"github.com/newsdesk/newsdesk"
)

// PushStatus is the line status shows for a source's push: whether its
// hub pushes and until when, or why not. src is the configured source,
// links what its feed last advertised, p its subscription (found false:
// none); baseURL is server.base_url.
func PushStatus(src newsdesk.Source, baseURL string, links newsdesk.WebSubLinks, p newsdesk.PushSubscription, found bool, now time.Time) string {
	switch {
	case !src.WebSub && !found:
		return ""
	case !src.WebSub:
		return "websub off: ending the subscription at " + p.Hub
	case baseURL == "":
		return "websub on but server.base_url is not set: no hub can reach newsdesk"
	case !found && (len(links.Hubs) == 0 || links.Self == ""):
		return "push not offered (the feed advertises no hub and self)"
	case !found:
		return "push offered by " + links.Hubs[0] + ": subscribing after the next fetch"
	}
	switch p.State {
	case newsdesk.PushActive:
		if p.Active(now) {
			s := "push active until " + p.LeaseEnd.UTC().Format(time.RFC3339) + " (" + p.Hub + ")"
			if !p.LastPush.IsZero() {
				s += ", last push " + p.LastPush.UTC().Format(time.RFC3339)
			}
			return s
		}
		return "push lease ended " + p.LeaseEnd.UTC().Format(time.RFC3339) + ": renewing (" + p.Hub + ")"
	case newsdesk.PushRequested:
		return "push requested at " + p.Hub + ", waiting for its verification"
	case newsdesk.PushDenied:
		return "verification failed: " + p.Reason
	case newsdesk.PushFailed:
		return "subscription request failed: " + p.Reason + "; next try " + p.NextTry.UTC().Format(time.RFC3339)
	case newsdesk.PushUnsubscribing:
		return "unsubscribing at " + p.Hub
	}
	return string(p.State)
}
