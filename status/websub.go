package status

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newsdesk/newsdesk"
)

// WebSub (issue 14): a source with websub on, or with a subscription at
// its hub, gets a PUSH column in every form of status (Row.WebSub), and
// the subscriptions readers hold at newsdesk's own hub are listed after
// the sources (Subscriber). A report without either is what it was.
// Nothing shown holds a callback's token, a hub.secret or a callback's
// full URL: callbacks are shown by host, topics by section.

// Push is what status shows of a source's push subscription at its hub.
type Push struct {
	// State is the subscription's (newsdesk.PushState: active, requested,
	// denied, failed, unsubscribing), "expired" for an active one whose
	// lease ended, or, without a subscription: "no_base_url" (a hub
	// elsewhere cannot reach newsdesk's callback), "not_fetched",
	// "not_offered" (the feed advertises no hub) or "offered" (it does;
	// the subscription is asked for after the next fetch).
	State    string     `json:"state"`
	Hub      string     `json:"hub,omitempty"` // the hub's host
	LeaseEnd *time.Time `json:"lease_end,omitempty"`
	LastPush *time.Time `json:"last_push,omitempty"`
	NextTry  *time.Time `json:"next_try,omitempty"` // failed: when it is asked again
	Reason   string     `json:"reason,omitempty"`   // denied, failed: why
}

// The states of Push besides newsdesk.PushState's.
const (
	PushExpired    = "expired"
	PushNoBaseURL  = "no_base_url"
	PushNotFetched = "not_fetched"
	PushNotOffered = "not_offered"
	PushOffered    = "offered"
)

// push is the Push of the source src (websub: its websub setting) whose
// fetch state is st, with its subscription p (ok: it has one); nil when
// websub is off and there is no subscription.
func push(websub bool, st newsdesk.FetchState, found bool, p newsdesk.PushSubscription, ok bool, reachable bool, now time.Time) *Push {
	switch {
	case ok:
		out := &Push{State: string(p.State), Hub: hostOf(p.Hub), LastPush: timePtr(p.LastPush), Reason: redact(p.Reason, p.Token, p.Secret)}
		switch p.State {
		case newsdesk.PushActive:
			out.LeaseEnd = timePtr(p.LeaseEnd)
			if !p.Active(now) {
				out.State = PushExpired
			}
		case newsdesk.PushFailed:
			out.NextTry = timePtr(p.NextTry)
		}
		return out
	case !websub:
		return nil
	case !reachable:
		return &Push{State: PushNoBaseURL}
	case !found:
		return &Push{State: PushNotFetched}
	case len(st.WebSub.Hubs) == 0:
		return &Push{State: PushNotOffered}
	}
	return &Push{State: PushOffered, Hub: hostOf(st.WebSub.Hubs[0])}
}

// hostOf is the host of a URL, or "" when it has none.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// redact is s with each of secrets (non-empty) replaced by xxxxx: a reason
// written from an error may quote the callback, token and all.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}

// String is the PUSH cell of the full table and the page: "active until
// 2026-12-12 10:00", "failed: REASON"...
func (p *Push) String() string {
	switch p.State {
	case string(newsdesk.PushActive):
		if p.LeaseEnd != nil {
			return "active until " + p.LeaseEnd.Local().Format("2006-01-02 15:04")
		}
	case PushExpired:
		if p.LeaseEnd != nil {
			return "expired " + p.LeaseEnd.Local().Format("2006-01-02 15:04")
		}
	case string(newsdesk.PushFailed), string(newsdesk.PushDenied):
		if p.Reason != "" {
			return p.State + ": " + p.Reason
		}
	}
	return p.short()
}

// Detail is what the page's PUSH cell tells on hovering: the hub's host
// and when the last push came.
func (p *Push) Detail() string {
	var parts []string
	if p.Hub != "" {
		parts = append(parts, "hub "+p.Hub)
	}
	if p.LastPush != nil {
		parts = append(parts, "last push "+p.LastPush.Local().Format("2006-01-02 15:04:05"))
	}
	return strings.Join(parts, "; ")
}

// short is the PUSH cell of the short form: the state in words.
func (p *Push) short() string {
	if p.State == PushNoBaseURL {
		return "no base_url"
	}
	return strings.ReplaceAll(p.State, "_", " ")
}

// anyPush reports whether a row has WebSub: only then do the tables and
// the page have a PUSH column.
func anyPush(rows []Row) bool {
	return slices.ContainsFunc(rows, func(r Row) bool { return r.WebSub != nil })
}

// pushCell is a row's PUSH cell made by cell, "-" for a source without
// websub.
func pushCell(r Row, cell func(*Push) string) string {
	if r.WebSub == nil {
		return "-"
	}
	return cell(r.WebSub)
}

// Subscriber is a reader's subscription at newsdesk's hub, as status shows
// it: by section and callback host, never its topic (a private section's
// holds the token), callback URL or secret.
type Subscriber struct {
	Section      string     `json:"section"`
	Format       string     `json:"format"`
	CallbackHost string     `json:"callback_host"`
	LeaseEnd     time.Time  `json:"lease_end"`
	Expired      bool       `json:"expired,omitempty"`
	LastResult   string     `json:"last_result,omitempty"` // the last delivery's: "200", "http 500"...
	LastAttempt  *time.Time `json:"last_attempt,omitempty"`
	Failures     int        `json:"failures,omitempty"` // consecutive failed deliveries of the version due
}

// Subscribers are subs (store.WebSubStore.HubSubscriptions) as status
// shows them, by section, format, callback host and lease end. Unless
// showPrivate (the CLI, or /status with server.admin_token), a
// subscription to a section that is not a public section of sections is
// shown as "(private)", as an answer without a token must not name a
// private section.
func Subscribers(subs []newsdesk.HubSubscription, sections []newsdesk.Section, showPrivate bool, now time.Time) []Subscriber {
	public := map[string]bool{}
	for _, sec := range sections {
		public[sec.ID] = sec.Token == ""
	}
	out := make([]Subscriber, 0, len(subs))
	for _, s := range subs {
		host := hostOf(s.Callback)
		sub := Subscriber{Section: s.Section, Format: s.Format, CallbackHost: host, LeaseEnd: s.Expires.UTC(),
			Expired: !now.Before(s.Expires), LastAttempt: timePtr(s.LastAttempt), Failures: s.Failures,
			LastResult: redact(strings.ReplaceAll(s.LastResult, s.Callback, host), s.Secret, s.Topic)}
		if !showPrivate && !public[s.Section] {
			sub.Section = "(private)"
		}
		out = append(out, sub)
	}
	slices.SortStableFunc(out, func(a, b Subscriber) int {
		return cmp.Or(cmp.Compare(a.Section, b.Section), cmp.Compare(a.Format, b.Format),
			cmp.Compare(a.CallbackHost, b.CallbackHost), a.LeaseEnd.Compare(b.LeaseEnd))
	})
	return out
}

// Lease is a subscriber's LEASE END cell.
func (s Subscriber) Lease() string {
	at := s.LeaseEnd.Local().Format("2006-01-02 15:04")
	if s.Expired {
		return "expired " + at
	}
	return at
}

// Delivery is a subscriber's LAST DELIVERY cell.
func (s Subscriber) Delivery() string {
	switch {
	case s.LastResult == "":
		return "none yet"
	case s.Failures > 1:
		return fmt.Sprintf("%s (%d failures in a row)", s.LastResult, s.Failures)
	}
	return s.LastResult
}

// WriteSubscribers writes the hub's subscribers as a table after the
// sources' (text and short form alike), headed by how many there are;
// nothing when there are none.
func WriteSubscribers(w io.Writer, subs []Subscriber) error {
	if len(subs) == 0 {
		return nil
	}
	n := fmt.Sprintf("%d subscriptions", len(subs))
	if len(subs) == 1 {
		n = "1 subscription"
	}
	fmt.Fprintf(w, "\nWebSub hub: %s\n", n)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SECTION\tFORMAT\tCALLBACK HOST\tLEASE END\tLAST DELIVERY")
	for _, s := range subs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Section, s.Format, s.CallbackHost, s.Lease(), s.Delivery())
	}
	return tw.Flush()
}

// Report is status -json and /status.json when the hub has subscribers:
// the sources' rows and the subscribers, in one object.
type Report struct {
	Sources     []Row        `json:"sources"`
	Subscribers []Subscriber `json:"subscribers,omitempty"`
}

// WriteReportJSON writes r as status -json and /status.json give it: the
// array of rows that WriteJSON writes while the hub has no subscribers,
// else the object (as status -json of instances sharing a store does).
func WriteReportJSON(w io.Writer, r Report) error {
	if len(r.Subscribers) == 0 {
		return WriteJSON(w, r.Sources)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads what WriteJSON or WriteReportJSON wrote (status -json of
// a serve, read by status at a terminal).
func ReadJSON(data []byte) (Report, error) {
	var r Report
	if trimmed := strings.TrimSpace(string(data)); strings.HasPrefix(trimmed, "[") {
		err := json.Unmarshal(data, &r.Sources)
		return r, err
	}
	err := json.Unmarshal(data, &r)
	return r, err
}
