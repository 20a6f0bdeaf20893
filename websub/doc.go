// Package websub implements both roles of WebSub (W3C Recommendation,
// 2018) for newsdesk, with the standard library only.
//
// # Hub (hub.go, and the files hub_*.go)
//
// newsdesk is the hub of its own sections. Hub serves POST BASE/websub:
// it checks a subscription request (hub.mode, hub.topic naming a section
// file this server publishes, with its token for a private section,
// hub.callback an http(s) URL, hub.lease_seconds kept within
// newsdesk.MinLeaseSeconds..MaxLeaseSeconds, hub.secret under 200 bytes),
// answers 202 Accepted, and verifies the intent off the serving path: a
// GET to the callback with hub.challenge, whose 2xx answer must echo it.
// Only then is the subscription stored (store.WebSubStore), or removed for
// an unsubscribe. A worker delivers: after each render it claims the
// subscriptions whose section has a newer version than they were sent
// (ClaimDeliveries), POSTs the file's current body in the subscribed
// format with its Content-Type, the hub and self Link headers and, with a
// secret, X-Hub-Signature (Sign), and records the outcome
// (FinishDelivery): a 2xx sends that version and no other until the
// next; a failure is tried again with backoff and given up after a day; a
// 410 ends the subscription. Each change is delivered once, its newest
// body, however often the section is rendered; with several instances the
// claim makes one of them deliver it. Requests to callbacks go through
// the address guard (internal/netguard), follow no redirect, are bounded
// in time and in what is read back, and run on the worker, never on a
// request's goroutine.
//
// # Subscriber (subscriber.go, and the files sub_*.go)
//
// A source with websub on whose feed advertises rel="hub" and rel="self"
// (ParseLinks, from the HTTP Link header or the body; the fetcher records
// them in newsdesk.FetchState.WebSub) is subscribed at its hub after a
// fetch, when server.base_url can be reached by the hub: callback
// BASE/websub/callback/SOURCE/TOKEN, a random secret, the lease renewed
// before it ends. The callback answers the hub's verification only for a
// subscription newsdesk asked for, and takes a delivery only when its
// signature (Verify: sha1, sha256, sha384 or sha512) matches: the body is
// parsed and normalized like a fetched feed and stored with
// store.WebSubStore.SavePush, which adds and updates items without
// touching the source's validators, next due time or tombstones. While the
// subscription is active the source is still polled every
// newsdesk.SafetyNetInterval.
package websub
