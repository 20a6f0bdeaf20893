package websub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/netguard"
	"github.com/newsdesk/newsdesk/store"
)

// hubClaimHold is how long a delivery claim lasts: longer than a delivery
// can take, so that another instance takes it only from one that died.
const hubClaimHold = 6 * HubTimeout

// Run verifies subscription requests and delivers new section versions
// until ctx ends, then waits for the requests under way. It wakes on Poke,
// when the earliest retry is due, and hourly to remove expired
// subscriptions. Verifications and deliveries run Workers at a time each,
// so one slow callback never holds up the others.
func (h *Hub) Run(ctx context.Context) {
	h.init()
	var wg sync.WaitGroup
	defer wg.Wait()
	for range h.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case v := <-h.pending:
					h.verify(ctx, v)
				}
			}
		})
	}

	slots := make(chan struct{}, h.Workers) // one per delivery under way
	done := make(chan struct{}, h.Workers)
	nextTidy := h.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	more := false
	for claim := true; ; {
		if now := h.Now(); !now.Before(nextTidy) {
			h.tidy(now)
			nextTidy = now.Add(hubTidyEvery)
		}
		if claim {
			more = h.claim(ctx, &wg, slots, done)
		}
		// Wake at least once a claim's length: a claim another instance
		// took and never finished (it stopped) is then taken over.
		wake := minTime(nextTidy, h.Now().Add(hubClaimHold))
		if t, ok := h.earliestRetry(); ok && t.Before(wake) {
			wake = t
		}
		timer.Reset(max(wake.Sub(h.Now()), time.Second))
		select {
		case <-ctx.Done():
			return
		case <-h.poke:
			claim = true
		case <-done:
			// A slot is free: claim again only if the last claim may
			// have left some due.
			claim = more
		case <-timer.C:
			claim = true
		}
	}
}

// claim claims as many deliveries as there are free slots and starts
// them; it reports whether the store may have more due.
func (h *Hub) claim(ctx context.Context, wg *sync.WaitGroup, slots, done chan struct{}) bool {
	free := cap(slots) - len(slots)
	if free == 0 {
		return true
	}
	subs, err := h.claimDue(free)
	if err != nil {
		h.Log.Error("websub: deliveries", "error", err)
		return false
	}
	for _, s := range subs {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() {
				<-slots
				select {
				case done <- struct{}{}:
				default:
				}
			}()
			h.finish(ctx, h.deliver(ctx, s))
		})
	}
	return len(subs) == free
}

// VerifyPending verifies the requests waiting for it, one after another,
// and returns how many; Run does this on its own goroutines.
func (h *Hub) VerifyPending(ctx context.Context) int {
	h.init()
	for n := 0; ; n++ {
		select {
		case v := <-h.pending:
			h.verify(ctx, v)
		default:
			return n
		}
	}
}

// Deliver makes every delivery due now, Workers at a time, records each
// and returns their outcomes; Run does this on its own, as changes come.
func (h *Hub) Deliver(ctx context.Context) ([]store.DeliveryResult, error) {
	h.init()
	var (
		mu  sync.Mutex
		out []store.DeliveryResult
	)
	for {
		subs, err := h.claimDue(h.Workers)
		if err != nil || len(subs) == 0 {
			return out, err
		}
		var wg sync.WaitGroup
		for _, s := range subs {
			wg.Go(func() {
				r := h.deliver(ctx, s)
				h.finish(ctx, r)
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(subs) < h.Workers {
			return out, nil
		}
	}
}

// claimDue claims up to limit deliveries due now.
func (h *Hub) claimDue(limit int) ([]newsdesk.HubSubscription, error) {
	versions := h.Site.SectionVersions()
	if len(versions) == 0 {
		return nil, nil
	}
	subs, err := h.Store.ClaimDeliveries(store.DeliveryRequest{
		Versions: versions, Now: h.Now(), Holder: h.Holder, Hold: hubClaimHold, Limit: limit,
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return subs, nil
}

// earliestRetry returns the earliest NextTry of a live subscription that
// waits to retry.
func (h *Hub) earliestRetry() (time.Time, bool) {
	now := h.Now()
	var first time.Time
	err := h.Store.HubSubscriptions(func(s newsdesk.HubSubscription) bool {
		if s.NextTry.After(now) && now.Before(s.Expires) && (first.IsZero() || s.NextTry.Before(first)) {
			first = s.NextTry
		}
		return true
	})
	if err != nil {
		h.Log.Error("websub: list subscriptions", "error", err)
	}
	return first, !first.IsZero()
}

func (h *Hub) tidy(now time.Time) {
	n, err := h.Store.DeleteExpiredHubSubscriptions(now)
	if err != nil {
		h.Log.Error("websub: remove expired subscriptions", "error", err)
	} else if n > 0 {
		h.Log.Info("websub: expired subscriptions removed", "count", n)
	}
}

// verify verifies a request's intent with its callback and, when the
// callback confirms it, stores the subscription or removes it. A failed
// verification stores nothing.
func (h *Hub) verify(ctx context.Context, v verification) {
	host := logHost(v.callback)
	q := url.Values{"hub.mode": {v.mode}, "hub.topic": {v.topic}}
	challenge := newHubChallenge()
	q.Set("hub.challenge", challenge)
	if v.mode == "subscribe" {
		q.Set("hub.lease_seconds", strconv.Itoa(v.lease))
	}
	sep := "?"
	if strings.Contains(v.callback, "?") {
		sep = "&"
	}
	err := h.confirm(ctx, v.callback+sep+q.Encode(), challenge)
	if err == nil {
		err = h.apply(v)
	}
	outcome := "verified"
	if err != nil {
		outcome = "failed"
		h.Log.Info("websub: verification failed", "mode", v.mode, "section", v.section, "callback_host", host, "error", err)
	} else {
		h.Log.Info("websub: verified", "mode", v.mode, "section", v.section, "format", v.format, "callback_host", host, "lease_seconds", v.lease)
	}
	if h.CountVerification != nil {
		h.CountVerification(v.mode, outcome)
	}
}

// confirm GETs the verification URL and checks the answer echoes the
// challenge with a 2xx.
func (h *Hub) confirm(ctx context.Context, u, challenge string) error {
	ctx, cancel := context.WithTimeout(ctx, HubTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return errors.New("the callback URL cannot be requested")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return errors.New(hubRequestError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, hubMaxAnswer))
	switch {
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("the callback answered http %d", resp.StatusCode)
	case strings.TrimSpace(string(body)) != challenge:
		return errors.New("the callback's answer is not the challenge")
	}
	return nil
}

// apply stores a verified subscription, sent the section's current
// version, or removes an unsubscribed one.
func (h *Hub) apply(v verification) error {
	if v.mode == "unsubscribe" {
		return h.Store.DeleteHubSubscription(v.topic, v.callback)
	}
	now := h.Now()
	return h.Store.SaveHubSubscription(newsdesk.HubSubscription{
		Topic: v.topic, Section: v.section, Format: v.format, Callback: v.callback,
		Secret: v.secret, LeaseSeconds: v.lease, Created: now,
		Expires: now.Add(time.Duration(v.lease) * time.Second),
		Sent:    h.Site.SectionVersions()[v.section],
	})
}

// deliver POSTs the subscription's section file to its callback and
// returns the outcome to record.
func (h *Hub) deliver(ctx context.Context, s newsdesk.HubSubscription) store.DeliveryResult {
	res := store.DeliveryResult{Topic: s.Topic, Callback: s.Callback, Holder: h.Holder}
	// The topic is checked again: a section made private, or whose token
	// changed, since the subscription was verified is not delivered to a
	// subscriber without the token; the subscription ends.
	if section, format, err := h.Site.WebSubTopic(s.Topic); err != nil || section != s.Section || format != s.Format {
		res.At, res.Gone = h.Now(), true
		h.count("ended")
		h.Log.Info("websub: subscription ended: its topic is no longer served as subscribed", "section", s.Section, "callback_host", logHost(s.Callback), "error", err)
		return res
	}
	body, ctype, changed, err := h.Site.SectionFile(s.Section, s.Format)
	var code int
	if err == nil {
		code, err = h.post(ctx, s, body, ctype)
	}
	res.At = h.Now()
	switch {
	case err == nil && code/100 == 2:
		res.Sent, res.Result = changed, strconv.Itoa(code)
		h.count("sent")
	case err == nil && code == http.StatusGone:
		res.Gone, res.Result = true, "410"
		h.count("gone")
		h.Log.Info("websub: subscription ended by its callback (410 Gone)", "section", s.Section, "callback_host", logHost(s.Callback))
	default:
		why := fmt.Sprintf("http %d", code)
		if err != nil {
			why = hubRequestError(err)
		}
		res.Failures = s.Failures + 1
		if res.Failures > len(h.Backoff) {
			res.Sent, res.Failures = changed, 0
			res.Result = fmt.Sprintf("gave up after %d attempts: %s", s.Failures+1, why)
			h.count("gave_up")
		} else {
			res.NextTry, res.Result = res.At.Add(h.Backoff[res.Failures-1]), why
			h.count("retry")
		}
		h.Log.Info("websub: delivery failed", "section", s.Section, "callback_host", logHost(s.Callback), "error", res.Result)
	}
	return res
}

func (h *Hub) count(outcome string) {
	if h.CountDelivery != nil {
		h.CountDelivery(outcome)
	}
}

// post sends one delivery and returns the callback's status.
func (h *Hub) post(ctx context.Context, s newsdesk.HubSubscription, body []byte, ctype string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, HubTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Callback, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("the callback URL cannot be requested")
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Link", fmt.Sprintf(`<%s>; rel="hub", <%s>; rel="self"`, h.URL, s.Topic))
	if s.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(s.Secret, body))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, hubMaxAnswer))
	return resp.StatusCode, nil
}

// finish records a delivery's outcome, unless the hub is stopping: a
// delivery cut short by shutdown is no failure of the callback, and its
// claim runs out for this instance or another to make it again.
func (h *Hub) finish(ctx context.Context, r store.DeliveryResult) {
	if ctx.Err() != nil {
		return
	}
	if err := h.Store.FinishDelivery(r); err != nil {
		h.Log.Error("websub: record delivery", "callback_host", logHost(r.Callback), "error", err)
	}
}

// hubRequestError says what went wrong with a request to a callback without its
// URL, which may carry a token: net/http's *url.Error repeats it.
func hubRequestError(err error) string {
	var re *netguard.RefusedError
	switch {
	case errors.As(err, &re):
		return re.Error() + " (server.websub_allow_private: true allows it)"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
