package websub

import (
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Step is what the subscriber does for one source after its fetch, or
// when its timer says a renewal or retry is due: the outcome of Plan.
type Step struct {
	// Unsubscribe asks the stored subscription's hub to end it; Delete
	// forgets it without asking (it was never made, or the hub already
	// ended it).
	Unsubscribe, Delete bool
	// Subscribe asks Hub to push Topic. Renew keeps the stored
	// subscription's callback token and secret (a renewal or retry at the
	// same hub and topic); otherwise new ones are made.
	Subscribe, Renew bool
	Hub, Topic       string
	// Why says why, for the log: "new", "hub or topic changed",
	// "renewal", "retry", "lease ended", "websub off", "no hub advertised".
	Why string
}

// Zero reports whether the step does nothing.
func (s Step) Zero() bool { return !s.Unsubscribe && !s.Delete && !s.Subscribe }

// verifyWait is how long a subscription request may wait for the hub's
// verification before it is asked again.
const verifyWait = time.Hour

// unsubscribeWait is how long an unsubscription waits for the hub's
// verification before it is forgotten.
const unsubscribeWait = 24 * time.Hour

// Plan decides the step for source src, whose feed last advertised links,
// given its stored subscription sub (found false: none) and the time now.
// baseURL is server.base_url: without it no hub can reach newsdesk.
//
//   - websub off, no base URL, or the feed no longer advertising a hub and
//     self: unsubscribe an active or requested subscription, forget any
//     other.
//   - otherwise subscribe when there is no subscription, when the feed
//     now names another topic or no longer the stored hub (the old one
//     is replaced: its hub's later deliveries no longer match), when an
//     active lease is half over (renewal: an hour-long lease is renewed
//     after half an hour, a 10-day one after 5 days), when a failed
//     request's NextTry has come, when a request went unverified for an
//     hour, or when the lease ended. A denied subscription stays denied
//     until the hub or topic changes.
func Plan(src newsdesk.Source, baseURL string, links newsdesk.WebSubLinks, sub newsdesk.PushSubscription, found bool, now time.Time) Step {
	on := src.WebSub && baseURL != ""
	if !on || len(links.Hubs) == 0 || links.Self == "" {
		why := "websub off"
		if on {
			why = "no hub advertised"
		}
		switch {
		case !found:
			return Step{}
		case sub.State == newsdesk.PushActive || sub.State == newsdesk.PushRequested:
			return Step{Unsubscribe: true, Hub: sub.Hub, Topic: sub.Topic, Why: why}
		case sub.State == newsdesk.PushUnsubscribing && now.Before(sub.RequestedAt.Add(unsubscribeWait)):
			return Step{}
		}
		return Step{Delete: true, Why: why}
	}
	hub := links.Hubs[0]
	if found && slices.Contains(links.Hubs, sub.Hub) {
		hub = sub.Hub // keep the hub it has among those advertised
	}
	subscribe := Step{Subscribe: true, Hub: hub, Topic: links.Self}
	switch {
	case !found:
		subscribe.Why = "new"
		return subscribe
	case sub.Hub != hub || sub.Topic != links.Self:
		subscribe.Why = "hub or topic changed"
		subscribe.Unsubscribe = sub.State == newsdesk.PushActive || sub.State == newsdesk.PushRequested
		return subscribe
	case sub.State == newsdesk.PushUnsubscribing:
		subscribe.Why = "websub on again"
		return subscribe
	}
	due, why := Due(sub)
	if due.IsZero() || now.Before(due) {
		return Step{}
	}
	subscribe.Why = why
	// The same hub and topic: the callback and secret stay, so that
	// deliveries under a lease that still runs stay valid.
	subscribe.Renew = sub.Token != ""
	return subscribe
}

// Due is when the subscription sub must next be asked for again, and why:
// its renewal, a retry, a request that went unverified, or an
// unsubscription that was never verified. Zero: never by itself (denied).
func Due(sub newsdesk.PushSubscription) (time.Time, string) {
	switch sub.State {
	case newsdesk.PushActive:
		if !sub.RequestedAt.Before(sub.LeaseEnd) {
			return sub.LeaseEnd, "lease ended"
		}
		// Half the lease: counted from the request, which is at or before
		// the verification that started it.
		return sub.RequestedAt.Add(sub.LeaseEnd.Sub(sub.RequestedAt) / 2), "renewal"
	case newsdesk.PushFailed:
		return sub.NextTry, "retry"
	case newsdesk.PushRequested:
		return sub.RequestedAt.Add(verifyWait), "not verified"
	case newsdesk.PushUnsubscribing:
		return sub.RequestedAt.Add(unsubscribeWait), "websub off"
	}
	return time.Time{}, ""
}
