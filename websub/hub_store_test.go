package websub_test

import (
	"slices"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// memStore keeps hub subscriptions in memory to store.WebSubStore's
// contract, for the hub's tests until the bbolt engine has them. The
// subscriber's methods are not implemented (the embedded nil interface).
type memStore struct {
	store.WebSubStore
	mu     sync.Mutex
	subs   map[[2]string]newsdesk.HubSubscription
	claims map[[2]string]claim
}

type claim struct {
	holder string
	until  time.Time
}

func newMemStore() *memStore {
	return &memStore{subs: map[[2]string]newsdesk.HubSubscription{}, claims: map[[2]string]claim{}}
}

func (m *memStore) SaveHubSubscription(s newsdesk.HubSubscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{s.Topic, s.Callback}
	if old, ok := m.subs[k]; ok {
		old.Section, old.Format, old.Secret, old.LeaseSeconds, old.Expires = s.Section, s.Format, s.Secret, s.LeaseSeconds, s.Expires
		s = old
	}
	m.subs[k] = s
	return nil
}

func (m *memStore) DeleteHubSubscription(topic, callback string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.subs, [2]string{topic, callback})
	return nil
}

func (m *memStore) HubSubscriptions(fn func(newsdesk.HubSubscription) bool) error {
	m.mu.Lock()
	var all []newsdesk.HubSubscription
	for _, s := range m.subs {
		all = append(all, s)
	}
	m.mu.Unlock()
	slices.SortFunc(all, func(a, b newsdesk.HubSubscription) int {
		if a.Topic != b.Topic {
			return compare(a.Topic, b.Topic)
		}
		return compare(a.Callback, b.Callback)
	})
	for _, s := range all {
		if !fn(s) {
			break
		}
	}
	return nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (m *memStore) ClaimDeliveries(req store.DeliveryRequest) ([]newsdesk.HubSubscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if req.Limit == 0 {
		req.Limit = 100
	}
	var due []newsdesk.HubSubscription
	for k, s := range m.subs {
		v, ok := req.Versions[s.Section]
		c, held := m.claims[k]
		if !req.Now.Before(s.Expires) || !ok || !v.After(s.Sent) || s.NextTry.After(req.Now) || (held && req.Now.Before(c.until)) {
			continue
		}
		due = append(due, s)
	}
	slices.SortFunc(due, func(a, b newsdesk.HubSubscription) int { return a.NextTry.Compare(b.NextTry) })
	if len(due) > req.Limit {
		due = due[:req.Limit]
	}
	for _, s := range due {
		m.claims[[2]string{s.Topic, s.Callback}] = claim{req.Holder, req.Now.Add(req.Hold)}
	}
	return due, nil
}

func (m *memStore) FinishDelivery(r store.DeliveryResult) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{r.Topic, r.Callback}
	s, ok := m.subs[k]
	if c, held := m.claims[k]; !ok || !held || c.holder != r.Holder {
		return nil
	}
	delete(m.claims, k)
	if r.Gone {
		delete(m.subs, k)
		return nil
	}
	if !r.Sent.IsZero() {
		s.Sent = r.Sent
	}
	s.Failures, s.NextTry, s.LastAttempt, s.LastResult = r.Failures, r.NextTry, r.At, r.Result
	m.subs[k] = s
	return nil
}

func (m *memStore) DeleteExpiredHubSubscriptions(now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, s := range m.subs {
		if !now.Before(s.Expires) {
			delete(m.subs, k)
			n++
		}
	}
	return n, nil
}
