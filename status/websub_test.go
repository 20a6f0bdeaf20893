package status

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Secrets the store holds that no form of status may show.
const (
	pushToken  = "cb-token-5f1e2d3c4b5a69788796a5b4"
	pushSecret = "push-secret-0a1b2c3d4e5f"
	hubSecret  = "hub-secret-9f8e7d6c5b4a"
	hubToken   = "section-token-0123456789ab"
)

// pushConfig is policy with sources in every push state: a subscription
// at each PushState, and without one websub on for a feed that offers a
// hub, one that does not and one never fetched, and websub off.
func pushConfig() Config {
	cfg := policy
	src := func(id string, websub bool) newsdesk.Source {
		return newsdesk.Source{ID: id, URL: "https://" + id + ".example/feed", WebSub: websub}
	}
	cfg.Sources = []newsdesk.Source{
		src("active", true), src("expired", true), src("requested", true), src("failed", true), src("denied", true),
		src("offered", true), src("silent", true), src("unfetched", true), src("polled", false),
	}
	sub := func(id string, state newsdesk.PushState) newsdesk.PushSubscription {
		return newsdesk.PushSubscription{SourceID: id, Hub: "https://hub.example/hub?key=x", Topic: "https://" + id + ".example/feed",
			Token: pushToken, Secret: pushSecret, State: state, RequestedAt: now.Add(-time.Hour)}
	}
	active := sub("active", newsdesk.PushActive)
	active.LeaseEnd, active.LastPush = now.Add(10*24*time.Hour), now.Add(-5*time.Minute)
	expired := sub("expired", newsdesk.PushActive)
	expired.LeaseEnd = now.Add(-time.Minute)
	failed := sub("failed", newsdesk.PushFailed)
	failed.Reason = "verification failed: GET https://news.example.org/websub/callback/failed/" + pushToken + ": timeout"
	failed.NextTry = now.Add(30 * time.Minute)
	denied := sub("denied", newsdesk.PushDenied)
	denied.Reason = "topic not allowed"
	gone := sub("removed", newsdesk.PushUnsubscribing)
	cfg.Push = []newsdesk.PushSubscription{active, expired, sub("requested", newsdesk.PushRequested), failed, denied, gone}
	cfg.WebSubReachable = true
	return cfg
}

// pushStates are the fetch states of pushConfig's sources.
func pushStates() []newsdesk.FetchState {
	var out []newsdesk.FetchState
	for _, id := range []string{"active", "expired", "requested", "failed", "denied", "offered", "silent", "polled"} {
		st := newsdesk.FetchState{SourceID: id, URL: "https://" + id + ".example/feed", Result: newsdesk.ResultOK,
			LastFetch: now.Add(-time.Minute), LastSuccess: now.Add(-time.Minute), NextDue: now.Add(9 * time.Minute)}
		if id != "silent" && id != "polled" {
			st.WebSub = newsdesk.WebSubLinks{Hubs: []string{"https://hub.example/hub?key=x"}, Self: "https://" + id + ".example/feed"}
		}
		out = append(out, st)
	}
	// removed is no longer in feeds.yaml; its subscription is being ended.
	return append(out, newsdesk.FetchState{SourceID: "removed", URL: "https://removed.example/feed", Result: newsdesk.ResultOK})
}

func TestCollectPush(t *testing.T) {
	rows, err := Collect(pushConfig(), openStore(t, pushStates()...), []Orphan{{SourceID: "removed", Items: 1}}, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Push{}
	for _, r := range rows {
		got[r.ID] = r.WebSub
	}
	want := map[string]Push{
		"active":    {State: "active", Hub: "hub.example", LeaseEnd: new(now.Add(10 * 24 * time.Hour)), LastPush: new(now.Add(-5 * time.Minute))},
		"expired":   {State: PushExpired, Hub: "hub.example", LeaseEnd: new(now.Add(-time.Minute))},
		"requested": {State: "requested", Hub: "hub.example"},
		"failed": {State: "failed", Hub: "hub.example", NextTry: new(now.Add(30 * time.Minute)),
			Reason: "verification failed: GET https://news.example.org/websub/callback/failed/xxxxx: timeout"},
		"denied":    {State: "denied", Hub: "hub.example", Reason: "topic not allowed"},
		"offered":   {State: PushOffered, Hub: "hub.example"},
		"silent":    {State: PushNotOffered},
		"unfetched": {State: PushNotFetched},
		"removed":   {State: "unsubscribing", Hub: "hub.example"},
	}
	for id, w := range want {
		if g := got[id]; g == nil || !samePush(*g, w) {
			t.Errorf("%s: WebSub = %+v, want %+v", id, g, w)
		}
	}
	if got["polled"] != nil {
		t.Errorf("polled: WebSub = %+v, want none (websub off, no subscription)", got["polled"])
	}

	// Without a base_url a hub can reach, no source without a
	// subscription asks for one.
	cfg := pushConfig()
	cfg.WebSubReachable = false
	rows, err = Collect(cfg, openStore(t, pushStates()...), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == "offered" || r.ID == "unfetched" || r.ID == "silent" {
			if r.WebSub == nil || r.WebSub.State != PushNoBaseURL || r.WebSub.String() != "no base_url" {
				t.Errorf("%s without a reachable base_url: WebSub = %+v, want no_base_url", r.ID, r.WebSub)
			}
		}
	}
}

func samePush(a, b Push) bool {
	eq := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.State == b.State && a.Hub == b.Hub && a.Reason == b.Reason &&
		eq(a.LeaseEnd, b.LeaseEnd) && eq(a.LastPush, b.LastPush) && eq(a.NextTry, b.NextTry)
}

func TestPushCells(t *testing.T) {
	lease := time.Date(2026, 12, 12, 10, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		p           Push
		full, brief string
	}{
		{Push{State: "active", LeaseEnd: &lease}, "active until 2026-12-12 10:00", "active"},
		{Push{State: PushExpired, LeaseEnd: &lease}, "expired 2026-12-12 10:00", "expired"},
		{Push{State: "requested"}, "requested", "requested"},
		{Push{State: PushNotOffered}, "not offered", "not offered"},
		{Push{State: "failed", Reason: "http 404"}, "failed: http 404", "failed"},
		{Push{State: "denied", Reason: "no"}, "denied: no", "denied"},
		{Push{State: PushNoBaseURL}, "no base_url", "no base_url"},
	} {
		if got := tc.p.String(); got != tc.full {
			t.Errorf("%+v.String() = %q, want %q", tc.p, got, tc.full)
		}
		if got := tc.p.short(); got != tc.brief {
			t.Errorf("%+v.short() = %q, want %q", tc.p, got, tc.brief)
		}
	}
}

// hubSubs are subscriptions at newsdesk's hub, one to a private section.
func hubSubs() []newsdesk.HubSubscription {
	return []newsdesk.HubSubscription{
		{Topic: "http://localhost:8080/sections/world.atom", Section: "world", Format: newsdesk.FormatAtom,
			Callback: "https://reader.example/push/cb?token=" + hubToken, Secret: hubSecret, Expires: now.Add(48 * time.Hour),
			LastAttempt: now.Add(-time.Hour), LastResult: `Post "https://reader.example/push/cb?token=` + hubToken + `": timeout`, Failures: 3},
		{Topic: "http://localhost:8080/sections/newsroom.rss?token=" + hubToken, Section: "newsroom", Format: newsdesk.FormatRSS,
			Callback: "http://127.0.0.1:9999/cb", Expires: now.Add(-time.Hour), LastResult: "200"},
		{Topic: "http://localhost:8080/sections/world.json", Section: "world", Format: newsdesk.FormatJSON,
			Callback: "https://other.example:8443/x", Expires: now.Add(24 * time.Hour)},
	}
}

var hubSections = []newsdesk.Section{{ID: "world"}, {ID: "newsroom", Token: hubToken}}

func TestSubscribers(t *testing.T) {
	got := Subscribers(hubSubs(), hubSections, true, now)
	want := []Subscriber{
		{Section: "newsroom", Format: "rss", CallbackHost: "127.0.0.1:9999", LeaseEnd: now.Add(-time.Hour), Expired: true, LastResult: "200"},
		{Section: "world", Format: "atom", CallbackHost: "reader.example", LeaseEnd: now.Add(48 * time.Hour),
			LastResult: `Post "reader.example": timeout`, LastAttempt: new(now.Add(-time.Hour)), Failures: 3},
		{Section: "world", Format: "json", CallbackHost: "other.example:8443", LeaseEnd: now.Add(24 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("Subscribers() = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Section != w.Section || g.Format != w.Format || g.CallbackHost != w.CallbackHost || !g.LeaseEnd.Equal(w.LeaseEnd) ||
			g.Expired != w.Expired || g.LastResult != w.LastResult || g.Failures != w.Failures || (g.LastAttempt == nil) != (w.LastAttempt == nil) {
			t.Errorf("Subscribers()[%d] = %+v, want %+v", i, g, w)
		}
	}
	// An answer without a token does not name a private section.
	for _, s := range Subscribers(hubSubs(), hubSections, false, now) {
		if s.Section == "newsroom" {
			t.Errorf("Subscribers(showPrivate=false) names the private section: %+v", s)
		}
	}
	if got := Subscribers(hubSubs(), hubSections, false, now); got[0].Section != "(private)" {
		t.Errorf("Subscribers(showPrivate=false)[0].Section = %q, want (private)", got[0].Section)
	}
}

// TestNoSecretsShown writes every form of a report with push and hub
// subscriptions and finds no token, secret, callback path or topic in it.
func TestNoSecretsShown(t *testing.T) {
	rows, err := Collect(pushConfig(), openStore(t, pushStates()...), []Orphan{{SourceID: "removed", Items: 1}}, now)
	if err != nil {
		t.Fatal(err)
	}
	subs := Subscribers(hubSubs(), hubSections, true, now)
	var b bytes.Buffer
	for _, err := range []error{
		WriteText(&b, rows, now), WriteShort(&b, rows, now, 200), WriteSubscribers(&b, subs),
		WriteReportJSON(&b, Report{Sources: rows, Subscribers: subs}),
		Page{Config: "feeds.yaml", Rows: rows, Subscribers: subs}.WriteHTML(&b),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	out := b.String()
	for _, secret := range []string{pushToken, pushSecret, hubSecret, hubToken, "/push/cb", "/sections/", "key=x"} {
		if strings.Contains(out, secret) {
			t.Errorf("status shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"active until ", "not offered", "failed: verification failed", "reader.example", "127.0.0.1:9999"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q", want)
		}
	}
}

func TestWriteTextPush(t *testing.T) {
	rows, err := Collect(pushConfig(), openStore(t, pushStates()...), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteText(&b, rows, now); err != nil {
		t.Fatal(err)
	}
	if err := WriteSubscribers(&b, Subscribers(hubSubs(), hubSections, true, now)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.Contains(lines[0], "ITEMS  PUSH") || !strings.Contains(lines[0], "  NEXT DUE") {
		t.Errorf("WriteText() header = %q, want PUSH between ITEMS and NEXT DUE", lines[0])
	}
	lease := now.Add(10 * 24 * time.Hour).Local().Format("2006-01-02 15:04")
	if !strings.HasPrefix(lines[1], "active ") || !strings.Contains(lines[1], "  active until "+lease+"  ") {
		t.Errorf("WriteText() active row = %q, want active until %s", lines[1], lease)
	}
	if i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "polled ") }); i < 0 || !strings.Contains(lines[i], "  -  ") {
		t.Errorf("WriteText() polled row = %q, want - under PUSH", lines)
	}
	i := slices.Index(lines, "WebSub hub: 3 subscriptions")
	if i < 0 || !strings.HasPrefix(lines[i+1], "SECTION   FORMAT  CALLBACK HOST       LEASE END") ||
		!strings.Contains(lines[i+2], "newsroom  rss     127.0.0.1:9999      expired ") ||
		!strings.Contains(lines[i+3], `timeout (3 failures in a row)`) || !strings.HasSuffix(lines[i+4], "none yet") {
		t.Errorf("WriteSubscribers() = %q, want a table of the 3 subscriptions", lines)
	}
}

func TestWriteShortPush(t *testing.T) {
	rows, err := Collect(pushConfig(), openStore(t, pushStates()...), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{80, 100} {
		var b bytes.Buffer
		if err := WriteShort(&b, rows, now, width); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if !strings.Contains(lines[0], "ITEMS  PUSH         NEXT") || !strings.Contains(lines[1], "0      active       in 9m") {
			t.Errorf("WriteShort(%d) = %q, want a PUSH column", width, lines)
		}
		for _, l := range lines {
			if n := len([]rune(l)); n > width {
				t.Errorf("WriteShort(%d) line of %d columns: %q", width, n, l)
			}
		}
	}
}

func TestWriteReportJSON(t *testing.T) {
	rows, err := Collect(pushConfig(), openStore(t, pushStates()...), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	// Without subscribers: the array of rows, as ever.
	var b bytes.Buffer
	if err := WriteReportJSON(&b, Report{Sources: rows}); err != nil {
		t.Fatal(err)
	}
	var arr []map[string]any
	if err := json.Unmarshal(b.Bytes(), &arr); err != nil {
		t.Fatalf("WriteReportJSON() without subscribers = %s, want an array: %v", b.String(), err)
	}
	ws, ok := arr[0]["websub"].(map[string]any)
	if !ok || ws["state"] != "active" || ws["hub"] != "hub.example" || ws["lease_end"] != "2026-12-05T12:00:00Z" || ws["last_push"] != "2026-11-25T11:55:00Z" {
		t.Errorf("websub of the active source = %v, want state, hub host, lease_end and last_push", arr[0]["websub"])
	}
	if _, ok := arr[len(arr)-1]["websub"]; ok {
		t.Errorf("row without websub = %v, want no websub key", arr[len(arr)-1])
	}

	// With subscribers: an object, which ReadJSON reads back.
	b.Reset()
	subs := Subscribers(hubSubs(), hubSections, true, now)
	if err := WriteReportJSON(&b, Report{Sources: rows, Subscribers: subs}); err != nil {
		t.Fatal(err)
	}
	var obj struct {
		Sources     []map[string]any `json:"sources"`
		Subscribers []map[string]any `json:"subscribers"`
	}
	if err := json.Unmarshal(b.Bytes(), &obj); err != nil {
		t.Fatal(err)
	}
	if len(obj.Sources) != len(rows) || len(obj.Subscribers) != 3 || obj.Subscribers[1]["callback_host"] != "reader.example" ||
		obj.Subscribers[1]["section"] != "world" || obj.Subscribers[0]["expired"] != true {
		t.Errorf("WriteReportJSON() = %s, want sources and subscribers", b.String())
	}
	for _, data := range [][]byte{b.Bytes(), mustJSON(t, rows)} {
		r, err := ReadJSON(data)
		if err != nil || len(r.Sources) != len(rows) || r.Sources[0].WebSub == nil {
			t.Errorf("ReadJSON() = %+v, %v; want the %d rows back", r, err, len(rows))
		}
	}
}

func mustJSON(t *testing.T, rows []Row) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJSON(&b, rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPageHTMLPush(t *testing.T) {
	rows, err := Collect(pushConfig(), openStore(t, pushStates()...), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := (Page{Config: "feeds.yaml", Rows: rows, Subscribers: Subscribers(hubSubs(), hubSections, false, now)}).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<th class="n">Items</th><th>Push</th><th>Last 48 fetches</th>`,
		`>active until ` + now.Add(10*24*time.Hour).Local().Format("2006-01-02 15:04") + `</span>`,
		`title="hub hub.example; last push `,
		`>not offered</span>`, "<td>-</td>",
		"<h2>WebSub subscribers</h2>",
		`<tr class="stale"><td>(private)</td><td>rss</td><td>127.0.0.1:9999</td><td>expired `,
		`<td>world</td><td>atom</td><td>reader.example</td>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteHTML() lacks %q:\n%s", want, out)
		}
	}
}

// TestNoPushNoColumn: without websub or subscriptions, no form of status
// says anything of WebSub.
func TestNoPushNoColumn(t *testing.T) {
	var b bytes.Buffer
	rows := longRows()
	for _, err := range []error{
		WriteText(&b, rows, now), WriteShort(&b, rows, now, 100), WriteReportJSON(&b, Report{Sources: rows}),
		WriteSubscribers(&b, nil), Page{Config: "feeds.yaml", Rows: rows}.WriteHTML(&b),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if out := strings.ToLower(b.String()); strings.Contains(out, "push") || strings.Contains(out, "websub") || strings.Contains(out, "subscri") {
		t.Errorf("status without websub mentions it:\n%s", b.String())
	}
}
