package newsdesk

import "time"

// WebSub (W3C Recommendation, 2018), issue 14. newsdesk plays both roles:
//
//   - Hub of its own sections: readers subscribe at BASE/websub to a
//     section feed (RSS, Atom, JSON Feed) or page; each subscription is a
//     HubSubscription in the store, and each new version of the section
//     (SectionVersion) is delivered to it once, by whichever instance
//     claims it.
//   - Subscriber of sources whose feed advertises a hub: the subscription
//     is a PushSubscription in the store, and what the hub pushes is
//     ingested like a fetch that adds and updates items only.
//
// The package websub implements both roles; these are the types the store,
// status and the fetcher share with it.

// WebSubLinks are the WebSub links a feed advertises (rel="hub" and
// rel="self", in its HTTP Link header or its body), as the last full
// fetch found them.
type WebSubLinks struct {
	Hubs []string `json:",omitempty"`
	Self string   `json:",omitempty"`
}

// IsZero reports whether the feed advertised no hub.
func (l WebSubLinks) IsZero() bool { return len(l.Hubs) == 0 && l.Self == "" }

// WebSub lease bounds: a subscription lasts DefaultLeaseSeconds unless the
// subscriber asks for another lease, which the hub keeps within
// MinLeaseSeconds and MaxLeaseSeconds.
const (
	DefaultLeaseSeconds = 10 * 24 * 60 * 60
	MinLeaseSeconds     = 60 * 60
	MaxLeaseSeconds     = 30 * 24 * 60 * 60
)

// MaxHubSecret is the longest hub.secret a subscriber may give, in bytes
// (the spec: "less than 200 bytes").
const MaxHubSecret = 199

// SafetyNetInterval is how often a source whose hub pushes to newsdesk is
// still polled, in case a push was lost.
const SafetyNetInterval = 6 * time.Hour

// Section formats a reader may subscribe to: the extension of the
// section's file.
const (
	FormatRSS  = "rss"
	FormatAtom = "atom"
	FormatJSON = "json"
	FormatHTML = "html"
)

// HubSubscription is a reader's subscription to a section's file at
// newsdesk's hub, verified and active until Expires. It is keyed by Topic
// and Callback.
type HubSubscription struct {
	// Topic is the hub.topic as the subscriber gave it (the section file's
	// URL, with ?token= for a private section).
	Topic    string `json:"topic"`
	Section  string `json:"section"`
	Format   string `json:"format"` // FormatRSS, FormatAtom, FormatJSON or FormatHTML
	Callback string `json:"callback"`
	// Secret signs every delivery (X-Hub-Signature); empty: unsigned.
	Secret       string    `json:"secret,omitempty"`
	LeaseSeconds int       `json:"lease_seconds"`
	Created      time.Time `json:"created"` // when first verified
	Expires      time.Time `json:"expires"` // when the lease ends

	// Delivery state, kept by ClaimDeliveries and FinishDelivery.

	// Sent is the ChangedAt of the section version last delivered (or
	// current when the subscription was verified): only a newer version
	// is delivered.
	Sent time.Time `json:"sent"`
	// Failures counts consecutive failed deliveries of the version due;
	// NextTry is when it may be tried again.
	Failures    int       `json:"failures,omitempty"`
	NextTry     time.Time `json:"next_try,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	// LastResult is the last delivery's outcome for status: "200",
	// "http 500", "timeout", "gave up after 10 attempts: http 500"...
	LastResult string `json:"last_result,omitempty"`
}

// PushState is the state of a source's subscription at its hub.
type PushState string

// The states of a PushSubscription.
const (
	// PushRequested: the hub was asked and has not verified yet.
	PushRequested PushState = "requested"
	// PushActive: the hub verified the subscription; it lasts until
	// LeaseEnd.
	PushActive PushState = "active"
	// PushDenied: the hub refused it (hub.mode=denied); Reason says why.
	PushDenied PushState = "denied"
	// PushFailed: the request to the hub failed; Reason says why, and it
	// is tried again at NextTry.
	PushFailed PushState = "failed"
	// PushUnsubscribing: websub was turned off for the source, or its
	// hub or topic changed; the hub was asked to end it.
	PushUnsubscribing PushState = "unsubscribing"
)

// PushSubscription is newsdesk's subscription, as subscriber, to a
// source's feed at the hub that feed advertises. There is at most one per
// source.
type PushSubscription struct {
	SourceID string `json:"source"`
	Hub      string `json:"hub"`
	Topic    string `json:"topic"` // the feed's rel="self"
	// Token is the random last element of the callback URL
	// (BASE/websub/callback/SOURCE/TOKEN), Secret the hub.secret given.
	Token       string    `json:"token"`
	Secret      string    `json:"secret"`
	State       PushState `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	RequestedAt time.Time `json:"requested_at,omitzero"`
	LeaseEnd    time.Time `json:"lease_end,omitzero"` // while active
	Failures    int       `json:"failures,omitempty"` // consecutive failed requests
	NextTry     time.Time `json:"next_try,omitzero"`  // when failed: next request
	LastPush    time.Time `json:"last_push,omitzero"` // the last verified delivery
}

// Active reports whether the hub pushes the source's items at now.
func (p PushSubscription) Active(now time.Time) bool {
	return p.State == PushActive && now.Before(p.LeaseEnd)
}
