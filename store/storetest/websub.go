package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// websubTests are the cases of the WebSub contract (store.WebSubStore).
var websubTests = []struct {
	name string
	fn   func(t *testing.T, open Open)
}{
	{"HubSubscriptionUpsertKeepsDelivery", testHubSubscriptionUpsertKeepsDelivery},
	{"HubSubscriptionsOrder", testHubSubscriptionsOrder},
	{"ClaimRules", testClaimRules},
	{"ClaimLimitAndOrder", testClaimLimitAndOrder},
	{"ClaimUsesStoreClock", testClaimUsesStoreClock},
	{"ClaimHeldUntilHoldRunsOut", testClaimHeldUntilHoldRunsOut},
	{"FinishDelivery", testFinishDelivery},
	{"DeleteExpiredHubSubscriptions", testDeleteExpiredHubSubscriptions},
	{"PushSubscriptions", testPushSubscriptions},
	{"PurgeRemovesPushSubscription", testPurgeRemovesPushSubscription},
	{"SavePush", testSavePush},
	{"SavePushRetention", testSavePushRetention},
	{"SavePushUnknownSource", testSavePushUnknownSource},
	{"ClaimOnceConcurrently", testClaimOnceConcurrently},
	{"FetchStateWebSub", testFetchStateWebSub},
}

// HubSub is a subscription of callback to section sec's RSS file, verified
// at T0 with that version sent, lasting 10 days.
func HubSub(sec, callback string) newsdesk.HubSubscription {
	return newsdesk.HubSubscription{
		Topic: "https://news.example/" + sec + ".xml", Section: sec, Format: newsdesk.FormatRSS, Callback: callback,
		Secret: "s3cret", LeaseSeconds: newsdesk.DefaultLeaseSeconds, Created: T0, Expires: T0.Add(10 * 24 * time.Hour), Sent: T0,
	}
}

func saveHub(t testing.TB, db store.Store, subs ...newsdesk.HubSubscription) {
	t.Helper()
	for _, s := range subs {
		if err := db.SaveHubSubscription(s); err != nil {
			t.Fatal(err)
		}
	}
}

func hubSubs(t testing.TB, db store.Store) []newsdesk.HubSubscription {
	t.Helper()
	var out []newsdesk.HubSubscription
	if err := db.HubSubscriptions(func(s newsdesk.HubSubscription) bool { out = append(out, s); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

// callbacks are the callbacks of subs, for comparing results.
func callbacks(subs []newsdesk.HubSubscription) []string {
	out := []string{}
	for _, s := range subs {
		out = append(out, s.Callback)
	}
	return out
}

func claim(t testing.TB, db store.Store, req store.DeliveryRequest) []string {
	t.Helper()
	got, err := db.ClaimDeliveries(req)
	if err != nil {
		t.Fatal(err)
	}
	return callbacks(got)
}

// request is a claim by holder "i1" for an hour at now of the deliveries
// of section versions (id, ChangedAt pairs).
func request(now time.Time, versions ...any) store.DeliveryRequest {
	req := store.DeliveryRequest{Versions: map[string]time.Time{}, Now: now, Holder: "i1", Hold: time.Hour}
	for i := 0; i+1 < len(versions); i += 2 {
		req.Versions[versions[i].(string)] = versions[i+1].(time.Time)
	}
	return req
}

// testHubSubscriptionUpsertKeepsDelivery: a renewed subscription takes the
// new lease and keeps its delivery state and claim.
func testHubSubscriptionUpsertKeepsDelivery(t *testing.T, open Open) {
	db := open(t)
	s := HubSub("world", "https://reader.example/cb")
	saveHub(t, db, s)
	t1 := T0.Add(time.Minute)
	if got := claim(t, db, request(t1, "world", t1)); len(got) != 1 {
		t.Fatalf("claimed %q, want the subscription", got)
	}
	if err := db.FinishDelivery(store.DeliveryResult{Topic: s.Topic, Callback: s.Callback, Holder: "i1", At: t1, Failures: 2, NextTry: t1, Result: "http 500"}); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, db, request(t1, "world", t1)); len(got) != 1 {
		t.Fatalf("claimed %q again, want the subscription", got)
	}
	renewed := s
	renewed.Secret, renewed.LeaseSeconds, renewed.Expires, renewed.Format = "other", 3600, T0.Add(20*24*time.Hour), newsdesk.FormatAtom
	renewed.Created, renewed.Sent = T0.Add(time.Hour), T0.Add(time.Hour) // not taken: delivery state
	saveHub(t, db, renewed)
	want := renewed
	want.Created, want.Sent, want.Failures, want.NextTry, want.LastAttempt, want.LastResult = T0, T0, 2, t1, t1, "http 500"
	if got := hubSubs(t, db); len(got) != 1 || asJSON(t, got[0]) != asJSON(t, want) {
		t.Errorf("after the renewal = %+v\nwant %+v", got, want)
	}
	if got := claim(t, db, request(t1, "world", t1)); len(got) != 0 {
		t.Errorf("claimed %q while the claim made before the renewal holds, want none", got)
	}
}

// testHubSubscriptionsOrder: by topic, then callback; fn stops the walk.
func testHubSubscriptionsOrder(t *testing.T, open Open) {
	db := open(t)
	saveHub(t, db, HubSub("b", "https://z.example/"), HubSub("b", "https://a.example/"), HubSub("a", "https://m.example/"), HubSub("ab", "https://a.example/"))
	var got []string
	for _, s := range hubSubs(t, db) {
		got = append(got, s.Section+" "+s.Callback)
	}
	want := []string{"a https://m.example/", "ab https://a.example/", "b https://a.example/", "b https://z.example/"}
	if !slices.Equal(got, want) {
		t.Errorf("HubSubscriptions = %q, want %q", got, want)
	}
	n := 0
	if err := db.HubSubscriptions(func(newsdesk.HubSubscription) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Errorf("HubSubscriptions stopped after %d, %v; want 2", n, err)
	}
	if err := db.DeleteHubSubscription("https://news.example/b.xml", "https://a.example/"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteHubSubscription("https://news.example/none.xml", "https://a.example/"); err != nil {
		t.Errorf("DeleteHubSubscription of none: %v, want nil", err)
	}
	if got := hubSubs(t, db); len(got) != 3 {
		t.Errorf("after a delete %d subscriptions, want 3", len(got))
	}
}

// testClaimRules: only a subscription that is not expired, whose section
// the caller serves in a version newer than it was sent, and whose NextTry
// has come is claimed.
func testClaimRules(t *testing.T, open Open) {
	db := open(t)
	now := T0.Add(time.Hour)
	ok := HubSub("world", "https://ok.example/")
	expired := HubSub("world", "https://expired.example/")
	expired.Expires = now
	other := HubSub("sport", "https://other-section.example/")
	current := HubSub("world", "https://current.example/")
	current.Sent = now
	newer := HubSub("world", "https://newer.example/")
	newer.Sent = now.Add(time.Minute)
	later := HubSub("world", "https://later.example/")
	later.NextTry = now.Add(time.Second)
	retry := HubSub("world", "https://retry.example/")
	retry.NextTry = now
	saveHub(t, db, ok, expired, other, current, newer, later, retry)
	got := claim(t, db, request(now, "world", now))
	slices.Sort(got)
	if want := []string{"https://ok.example/", "https://retry.example/"}; !slices.Equal(got, want) {
		t.Errorf("claimed %q, want %q", got, want)
	}
	got = claim(t, db, request(now, "world", now.Add(time.Hour)))
	slices.Sort(got)
	if want := []string{"https://current.example/", "https://newer.example/"}; !slices.Equal(got, want) {
		t.Errorf("claimed %q for a newer version, want %q (ok and retry are held)", got, want)
	}
	if _, err := db.ClaimDeliveries(store.DeliveryRequest{Now: now, Hold: time.Hour}); err == nil {
		t.Error("ClaimDeliveries without a holder: nil error, want one")
	}
}

// testClaimLimitAndOrder: earliest NextTry first, at most Limit, 100 when
// Limit is 0.
func testClaimLimitAndOrder(t *testing.T, open Open) {
	db := open(t)
	now := T0.Add(time.Hour)
	for i, min := range []int{30, 10, 50, 20, 40} {
		s := HubSub("world", fmt.Sprintf("https://r%d.example/", i))
		s.NextTry = T0.Add(time.Duration(min) * time.Minute)
		saveHub(t, db, s)
	}
	req := request(now, "world", now)
	req.Limit = 3
	if got, want := claim(t, db, req), []string{"https://r1.example/", "https://r3.example/", "https://r0.example/"}; !slices.Equal(got, want) {
		t.Errorf("claimed %q, want %q", got, want)
	}
	for i := range 150 {
		saveHub(t, db, HubSub("many", fmt.Sprintf("https://m%03d.example/", i)))
	}
	if got := claim(t, db, request(now, "many", now)); len(got) != store.DefaultClaimLimit {
		t.Errorf("claimed %d with Limit 0, want %d", len(got), store.DefaultClaimLimit)
	}
}

// testClaimUsesStoreClock: with a zero Now, due-ness is judged by the
// store's clock (these subscriptions are dated around the real time).
func testClaimUsesStoreClock(t *testing.T, open Open) {
	db := open(t)
	real := time.Now()
	due := HubSub("world", "https://due.example/")
	due.Expires = real.Add(time.Hour)
	notYet := HubSub("world", "https://not-yet.example/")
	notYet.Expires, notYet.NextTry = real.Add(time.Hour), real.Add(30*time.Minute)
	gone := HubSub("world", "https://expired.example/")
	gone.Expires = real.Add(-time.Minute)
	saveHub(t, db, due, notYet, gone)
	if got := claim(t, db, request(time.Time{}, "world", real)); len(got) != 1 || got[0] != due.Callback {
		t.Errorf("claimed %q with the store's clock, want only %s", got, due.Callback)
	}
}

// testClaimHeldUntilHoldRunsOut: a claim keeps others from the
// subscription for Hold, then it can be claimed again, and the first
// holder's late FinishDelivery does nothing.
func testClaimHeldUntilHoldRunsOut(t *testing.T, open Open) {
	db := open(t)
	s := HubSub("world", "https://r.example/")
	saveHub(t, db, s)
	now := T0.Add(time.Hour)
	req := request(now, "world", now)
	if got := claim(t, db, req); len(got) != 1 {
		t.Fatalf("first claim = %q, want the subscription", got)
	}
	req.Holder, req.Now = "i2", now.Add(time.Hour-time.Millisecond)
	if got := claim(t, db, req); len(got) != 0 {
		t.Errorf("claimed %q while held, want none", got)
	}
	req.Now = now.Add(time.Hour)
	if got := claim(t, db, req); len(got) != 1 {
		t.Fatalf("claimed %q once the hold ran out, want the subscription", got)
	}
	late := store.DeliveryResult{Topic: s.Topic, Callback: s.Callback, Holder: "i1", At: req.Now, Sent: now, Result: "200"}
	if err := db.FinishDelivery(late); err != nil {
		t.Fatal(err)
	}
	if got := hubSubs(t, db); got[0].LastResult != "" || !got[0].Sent.Equal(T0) {
		t.Errorf("the first holder's late result was recorded: %+v", got[0])
	}
	req.Holder = "i3"
	if got := claim(t, db, req); len(got) != 0 {
		t.Errorf("claimed %q while i2 holds it (i1's finish ended nothing), want none", got)
	}
}

// testFinishDelivery: the holder's result is recorded and ends the claim;
// a zero Sent keeps the one stored; Gone deletes.
func testFinishDelivery(t *testing.T, open Open) {
	db := open(t)
	a, b := HubSub("world", "https://a.example/"), HubSub("world", "https://b.example/")
	saveHub(t, db, a, b)
	now := T0.Add(time.Hour)
	if got := claim(t, db, request(now, "world", now)); len(got) != 2 {
		t.Fatalf("claimed %q, want both", got)
	}
	failed := store.DeliveryResult{Topic: a.Topic, Callback: a.Callback, Holder: "i1", At: now, Failures: 1, NextTry: now.Add(time.Minute), Result: "http 500"}
	if err := db.FinishDelivery(failed); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishDelivery(store.DeliveryResult{Topic: b.Topic, Callback: b.Callback, Holder: "i1", At: now, Gone: true, Result: "http 410"}); err != nil {
		t.Fatal(err)
	}
	got := hubSubs(t, db)
	want := a
	want.Failures, want.NextTry, want.LastAttempt, want.LastResult = 1, now.Add(time.Minute), now, "http 500"
	if len(got) != 1 || asJSON(t, got[0]) != asJSON(t, want) {
		t.Fatalf("after the results = %+v\nwant %+v", got, want)
	}
	if got := claim(t, db, request(now, "world", now)); len(got) != 0 {
		t.Errorf("claimed %q before NextTry, want none", got)
	}
	retry := now.Add(time.Minute)
	if got := claim(t, db, request(retry, "world", now)); len(got) != 1 {
		t.Fatalf("claimed %q at NextTry, want a (its claim ended)", got)
	}
	ok := store.DeliveryResult{Topic: a.Topic, Callback: a.Callback, Holder: "i1", At: retry, Sent: now, Result: "200"}
	if err := db.FinishDelivery(ok); err != nil {
		t.Fatal(err)
	}
	if got := hubSubs(t, db); !got[0].Sent.Equal(now) || got[0].Failures != 0 || !got[0].NextTry.IsZero() || got[0].LastResult != "200" {
		t.Errorf("after the success = %+v, want Sent %s, no failures", got[0], now)
	}
	if got := claim(t, db, request(retry.Add(time.Hour), "world", now)); len(got) != 0 {
		t.Errorf("claimed %q with the version sent, want none", got)
	}
	if err := db.FinishDelivery(store.DeliveryResult{Topic: "https://news.example/none.xml", Callback: a.Callback, Holder: "i1", At: now}); err != nil {
		t.Errorf("FinishDelivery of no subscription: %v, want nil", err)
	}
}

// testDeleteExpiredHubSubscriptions: leases that ended at or before now go.
func testDeleteExpiredHubSubscriptions(t *testing.T, open Open) {
	db := open(t)
	for i, end := range []time.Duration{-time.Hour, 0, time.Second} {
		s := HubSub("world", fmt.Sprintf("https://r%d.example/", i))
		s.Expires = T0.Add(end)
		saveHub(t, db, s)
	}
	if n, err := db.DeleteExpiredHubSubscriptions(T0); err != nil || n != 2 {
		t.Errorf("DeleteExpiredHubSubscriptions = %d, %v; want 2", n, err)
	}
	if got := callbacks(hubSubs(t, db)); !slices.Equal(got, []string{"https://r2.example/"}) {
		t.Errorf("left %q, want r2", got)
	}
}

// PushSub is source src's active subscription at its hub.
func PushSub(src string) newsdesk.PushSubscription {
	return newsdesk.PushSubscription{SourceID: src, Hub: "https://hub.example/", Topic: "https://" + src + ".example/feed",
		Token: "tok-" + src, Secret: "sec-" + src, State: newsdesk.PushActive, RequestedAt: T0, LeaseEnd: T0.Add(24 * time.Hour), LastPush: T0}
}

// testPushSubscriptions: saved, replaced, listed by source, deleted.
func testPushSubscriptions(t *testing.T, open Open) {
	db := open(t)
	if _, err := db.PushSubscription("a"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("PushSubscription of none: %v, want ErrNotFound", err)
	}
	for _, src := range []string{"b", "a"} {
		if err := db.SavePushSubscription(PushSub(src)); err != nil {
			t.Fatal(err)
		}
	}
	failed := PushSub("a")
	failed.State, failed.Reason, failed.Failures, failed.NextTry, failed.LeaseEnd = newsdesk.PushFailed, "hub answered 500", 1, T0.Add(time.Minute), time.Time{}
	if err := db.SavePushSubscription(failed); err != nil {
		t.Fatal(err)
	}
	got, err := db.PushSubscription("a")
	if err != nil || asJSON(t, got) != asJSON(t, failed) {
		t.Errorf("PushSubscription(a) = %+v, %v; want %+v", got, err, failed)
	}
	all, err := db.PushSubscriptions()
	if err != nil || len(all) != 2 || all[0].SourceID != "a" || all[1].SourceID != "b" {
		t.Errorf("PushSubscriptions = %+v, %v; want a, b", all, err)
	}
	for range 2 {
		if err := db.DeletePushSubscription("a"); err != nil {
			t.Errorf("DeletePushSubscription(a): %v", err)
		}
	}
	if _, err := db.PushSubscription("a"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("PushSubscription after the delete: %v, want ErrNotFound", err)
	}
}

// testPurgeRemovesPushSubscription: purging a source ends what is stored
// of its subscription.
func testPurgeRemovesPushSubscription(t *testing.T, open Open) {
	db := open(t)
	save(t, db, "a", T0, NoLimit, Feed("a", 2, T0)...)
	if err := db.SavePushSubscription(PushSub("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MarkOrphans(nil, T0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Purge("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PushSubscription("a"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("PushSubscription after the purge: %v, want ErrNotFound", err)
	}
}

// pushState is a fetch state with everything a push must leave alone.
func pushState(src string) newsdesk.FetchState {
	return newsdesk.FetchState{SourceID: src, URL: "https://" + src + ".example/feed", ETag: `"v1"`, LastModified: "Fri, 20 Nov 2026 12:00:00 GMT",
		LastFetch: T0, LastSuccess: T0, Result: newsdesk.ResultOK, NextDue: T0.Add(newsdesk.SafetyNetInterval),
		WebSub:  newsdesk.WebSubLinks{Hubs: []string{"https://hub.example/"}, Self: "https://" + src + ".example/feed"},
		History: []newsdesk.Attempt{{At: T0, Result: newsdesk.ResultOK}}}
}

// testSavePush: a push adds new items and updates stored ones in place
// (FirstSeen kept), leaves the items it lacks and the source's state
// alone, and does not bring back a pruned item.
func testSavePush(t *testing.T, open Open) {
	db := open(t)
	feed := Feed("a", 4, T0) // a-000 newest .. a-003
	if _, err := db.SaveFetch(pushState("a"), feed, newsdesk.Retention{MaxItems: 3}); err != nil {
		t.Fatal(err)
	}
	before, err := db.State("a")
	if err != nil {
		t.Fatal(err)
	}
	at := T0.Add(10 * time.Minute)
	changed := feed[1]
	changed.Title = "Changed title"
	pushed := []newsdesk.Item{Item("a", "a-new", T0.Add(5*time.Minute)), changed, feed[2], feed[3]} // a-003 was pruned
	res, err := db.SavePush("a", pushed, newsdesk.Retention{MaxItems: 10}, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.PushResult{New: 1, Updated: 1}); res != want {
		t.Errorf("SavePush = %+v, want %+v", res, want)
	}
	after, err := db.State("a")
	if err != nil || asJSON(t, after) != asJSON(t, before) {
		t.Errorf("state after the push = %+v, %v\nwant it unchanged: %+v", after, err, before)
	}
	var got []string
	if err := db.Items("a", func(it newsdesk.Item) bool { got = append(got, it.ID); return true }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a-000", "a-001", "a-002", "a-new"}; !slices.Equal(got, want) {
		t.Errorf("items after the push = %q, want %q (a-003 pruned before, a-000 kept though not pushed)", got, want)
	}
	it, err := db.Item("a", "a-001")
	if err != nil || it.Title != "Changed title" || !it.FirstSeen.Equal(T0) {
		t.Errorf("a-001 after the push = %q first seen %s, %v; want the new title, first seen %s", it.Title, it.FirstSeen, err, T0)
	}
	if it, err := db.Item("a", "a-new"); err != nil || !it.FirstSeen.Equal(at) {
		t.Errorf("a-new first seen %s, %v; want %s", it.FirstSeen, err, at)
	}
	// A push lacking an item much later does not end its tombstone: the
	// next full fetch still does not take a-003 as new.
	if _, err := db.SavePush("a", []newsdesk.Item{Item("a", "a-new", T0.Add(5*time.Minute))}, NoLimit, T0.Add(60*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	st := pushState("a")
	st.LastFetch = T0.Add(60*24*time.Hour + time.Minute)
	full, err := db.SaveFetch(st, feed, newsdesk.Retention{MaxItems: 10})
	if err != nil || full.New != 0 {
		t.Errorf("full fetch after the pushes: %d new, %v; want 0 (a-003 stays pruned)", full.New, err)
	}
}

// testSavePushRetention: retention counts stored and pushed items
// together; the skipped are counted.
func testSavePushRetention(t *testing.T, open Open) {
	db := open(t)
	save(t, db, "a", T0, NoLimit, Feed("a", 3, T0)...)
	unstorable := Item("a", "a-p3", T0.Add(3*time.Hour))
	unstorable.Updated = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // no JSON for it
	pushed := []newsdesk.Item{Item("a", "a-p1", T0.Add(time.Hour)), Item("a", "a-p2", T0.Add(2*time.Hour)), unstorable}
	res, err := db.SavePush("a", pushed, newsdesk.Retention{MaxItems: 3}, T0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 2 || res.Skipped != 1 || !strings.Contains(res.SkipReason, `item "a-p3"`) {
		t.Errorf("SavePush = %+v, want 2 new, 1 skipped for a-p3", res)
	}
	if _, err := db.Item("a", "a-002"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("the oldest item after the push: %v, want pruned", err)
	}
}

// testSavePushUnknownSource: a source never fetched has nothing to add to.
func testSavePushUnknownSource(t *testing.T, open Open) {
	db := open(t)
	if _, err := db.SavePush("nope", Feed("nope", 1, T0), NoLimit, T0); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("SavePush of an unknown source: %v, want ErrNotFound", err)
	}
	if n, _ := db.CountItems("nope"); n != 0 {
		t.Errorf("CountItems after the refused push = %d, want 0", n)
	}
}

// testClaimOnceConcurrently: goroutines claiming at once from one store
// claim each subscription once.
func testClaimOnceConcurrently(t *testing.T, open Open) {
	db := open(t)
	ClaimEachOnce(t, []store.Store{db, db, db, db, db, db, db, db})
}

// ClaimEachOnce stores 1,000 due subscriptions through stores[0] and has
// one goroutine per store claim (Limit 25) until none are left, each under
// a holder of its own: every subscription must be claimed exactly once.
// Engines call it with several separately opened stores (instances).
func ClaimEachOnce(t *testing.T, stores []store.Store) {
	t.Helper()
	const n = 1000
	for i := range n {
		saveHub(t, stores[0], HubSub("world", fmt.Sprintf("https://r%04d.example/", i)))
	}
	now := T0.Add(time.Hour)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, len(stores))
	for g, db := range stores {
		wg.Go(func() {
			req := request(now, "world", now)
			req.Holder, req.Limit = fmt.Sprintf("i%d", g), 25
			for {
				got, err := db.ClaimDeliveries(req)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, s := range got {
					seen[s.Callback]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	twice := 0
	for _, c := range seen {
		if c > 1 {
			twice++
		}
	}
	if len(seen) != n || twice > 0 {
		t.Errorf("%d of %d subscriptions claimed, %d more than once; want all once", len(seen), n, twice)
	}
}

// testFetchStateWebSub: the hub and self links a fetch found are kept
// with the source's state.
func testFetchStateWebSub(t *testing.T, open Open) {
	db := open(t)
	st := pushState("a")
	if _, err := db.SaveFetch(st, Feed("a", 1, T0), NoLimit); err != nil {
		t.Fatal(err)
	}
	got, err := db.State("a")
	if err != nil || asJSON(t, got.WebSub) != asJSON(t, st.WebSub) {
		t.Errorf("State().WebSub = %+v, %v; want %+v", got.WebSub, err, st.WebSub)
	}
	st.WebSub = newsdesk.WebSubLinks{}
	if err := db.SaveState(st); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.State("a"); !got.WebSub.IsZero() {
		t.Errorf("State().WebSub after SaveState without links = %+v, want none", got.WebSub)
	}
}

// BenchDeliveries measures a delivery's round in the store: each
// iteration claims up to 100 due subscriptions (of 1,000 stored) and
// finishes each one as delivered; b.N is deliveries, so ns/op is the store's
// cost per delivery (the claim shared among 100, plus one FinishDelivery).
func BenchDeliveries(b *testing.B, open Open) {
	db := open(b)
	const n = 1000
	for i := range n {
		saveHub(b, db, HubSub("world", fmt.Sprintf("https://r%04d.example/", i)))
	}
	version := T0
	var due []newsdesk.HubSubscription
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(due) == 0 {
			req := request(version, "world", version)
			got, err := db.ClaimDeliveries(req)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) == 0 { // every subscription has this version: a new one
				version = version.Add(time.Second)
				if got, err = db.ClaimDeliveries(request(version, "world", version)); err != nil || len(got) == 0 {
					b.Fatalf("claim after a new version: %d, %v", len(got), err)
				}
			}
			due = got
		}
		s := due[0]
		due = due[1:]
		r := store.DeliveryResult{Topic: s.Topic, Callback: s.Callback, Holder: "i1", At: version, Sent: version, Result: "200"}
		if err := db.FinishDelivery(r); err != nil {
			b.Fatal(err)
		}
	}
}
