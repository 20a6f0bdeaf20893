package websub

import (
	"cmp"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
)

// ServeHTTP serves the callbacks, CallbackPath + SOURCE/TOKEN:
//
//   - GET: a hub's verification of intent (WebSub 5.3). It is answered
//     200 with hub.challenge only for a subscription of that source and
//     token that asked for that mode and topic: a subscribe makes it
//     active until now + hub.lease_seconds, an unsubscribe removes it;
//     anything else is 404. hub.mode=denied records the hub's refusal
//     and its hub.reason.
//   - POST: a delivery (WebSub 7). The body, up to the source's max_body,
//     is ingested when its X-Hub-Signature matches the secret; an
//     unsigned or wrongly signed one is dropped and counted, and answered
//     202 Accepted all the same, as the spec allows, so that a forger
//     learns nothing. An unknown source or token is 404, a body too large
//     413, a failed ingest 500 (the hub tries again).
func (s *Subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, rest, _ := strings.Cut(r.URL.Path, CallbackPath)
	id, token, ok := strings.Cut(rest, "/")
	if !ok || id == "" || token == "" || strings.Contains(token, "/") {
		http.NotFound(w, r)
		return
	}
	sub, found, err := s.subscription(id)
	if err != nil {
		s.log().Error("could not read the websub subscription", "source", id, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !found || !tokenEqual(sub.Token, token) {
		if r.Method == http.MethodPost {
			s.count(id, "unknown")
			drainBody(r)
		}
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.verify(w, r, sub)
	case http.MethodPost:
		s.deliver(w, r, sub)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "GET (verification) or POST (delivery)", http.StatusMethodNotAllowed)
	}
}

// verify answers a hub's verification of intent for the subscription
// sub, whose token the request carries.
func (s *Subscriber) verify(w http.ResponseWriter, r *http.Request, sub newsdesk.PushSubscription) {
	q := r.URL.Query()
	mode, topic := q.Get("hub.mode"), q.Get("hub.topic")
	log := s.log().With("source", sub.SourceID, "hub", sub.Hub)
	if topic != sub.Topic {
		log.Warn("websub verification for a topic newsdesk did not ask for: refused", "mode", mode, "topic", topic)
		http.NotFound(w, r)
		return
	}
	asked := sub.State == newsdesk.PushRequested || sub.State == newsdesk.PushActive || sub.State == newsdesk.PushFailed
	switch {
	case mode == "denied" && asked:
		reason := q.Get("hub.reason")
		s.update(log, sub, func(p *newsdesk.PushSubscription) bool {
			p.State, p.Reason, p.LeaseEnd = newsdesk.PushDenied, "denied by the hub: "+cmp.Or(reason, "no reason given"), time.Time{}
			return true
		})
		log.Warn("websub subscription denied by the hub", "reason", reason)
		w.WriteHeader(http.StatusOK)
		return
	case mode == "subscribe" && asked:
		lease, err := strconv.Atoi(q.Get("hub.lease_seconds"))
		if err != nil || lease <= 0 {
			http.Error(w, "hub.lease_seconds: a positive number is required", http.StatusBadRequest)
			return
		}
		end := s.now().Add(time.Duration(lease) * time.Second)
		s.update(log, sub, func(p *newsdesk.PushSubscription) bool {
			p.State, p.LeaseEnd, p.Reason, p.Failures, p.NextTry = newsdesk.PushActive, end, "", 0, time.Time{}
			return true
		})
		log.Info("websub subscription verified: the hub pushes", "lease_end", end.Format(time.RFC3339))
	case mode == "unsubscribe" && sub.State == newsdesk.PushUnsubscribing:
		s.update(log, sub, func(*newsdesk.PushSubscription) bool { return false })
		log.Info("websub unsubscription verified")
	default:
		log.Warn("websub verification for a mode newsdesk did not ask for: refused", "mode", mode, "state", sub.State)
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, q.Get("hub.challenge"))
}

// deliver takes a hub's delivery for the subscription sub.
func (s *Subscriber) deliver(w http.ResponseWriter, r *http.Request, sub newsdesk.PushSubscription) {
	log := s.log().With("source", sub.SourceID, "hub", sub.Hub)
	if sub.State == newsdesk.PushDenied || sub.State == newsdesk.PushUnsubscribing {
		s.count(sub.SourceID, "unknown")
		drainBody(r)
		http.NotFound(w, r)
		return
	}
	limit := int64(newsdesk.DefaultMaxBody)
	if src, ok := s.source(sub.SourceID); ok && src.MaxBody > 0 {
		limit = src.MaxBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	if int64(len(body)) > limit {
		s.count(sub.SourceID, "too_large")
		log.Warn("websub delivery larger than the source's max_body: dropped", "max_body", limit)
		http.Error(w, "body larger than "+strconv.FormatInt(limit, 10)+" bytes", http.StatusRequestEntityTooLarge)
		return
	}
	if err := Verify(sub.Secret, body, r.Header.Get(SignatureHeader)); err != nil {
		result := "bad_signature"
		if errors.Is(err, ErrUnsigned) {
			result = "unsigned"
		}
		s.count(sub.SourceID, result)
		log.Warn("websub delivery dropped", "reason", err)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if s.Ingest == nil {
		http.Error(w, "no ingest", http.StatusInternalServerError)
		return
	}
	if err := s.Ingest(r.Context(), sub.SourceID, body, r.Header.Get("Content-Type")); err != nil {
		s.count(sub.SourceID, "ingest_error")
		log.Error("websub delivery could not be ingested", "error", err)
		http.Error(w, "could not ingest the delivery", http.StatusInternalServerError)
		return
	}
	s.count(sub.SourceID, "ok")
	at := s.now()
	s.mu.Lock()
	if cur, found, err := s.subscription(sub.SourceID); err == nil && found && cur.Token == sub.Token {
		cur.LastPush = at
		if err := s.putLocked(cur, true); err != nil {
			log.Error("could not store the websub subscription", "error", err)
		}
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// count counts a delivery's result for a source (OnDelivery).
func (s *Subscriber) count(sourceID, result string) {
	if s.OnDelivery != nil {
		s.OnDelivery(sourceID, result)
	}
}

// drainBody reads what is left of a small request body, so that the
// connection can be reused.
func drainBody(r *http.Request) { io.Copy(io.Discard, io.LimitReader(r.Body, 64<<10)) }
