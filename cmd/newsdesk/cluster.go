package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/store"
)

// How a process takes part in a store several processes share (the
// PostgreSQL engine, store.Cluster): it joins under an instance id of its
// own and keeps its record fresh (heartbeat) so that status names it with
// its config hash; serve also follows the others' commits (follow) and
// re-renders what they changed. Leasing the sources to fetch is the
// scheduler's (fetcher.Scheduler.Cluster).

// heartbeatEvery is how often an instance refreshes its record.
const heartbeatEvery = 15 * time.Second

// backstopEvery is how often serve asks the store what changed, in case a
// notification was lost with its connection.
const backstopEvery = 5 * time.Second

// listenRetry bounds the wait before listening again after the
// notification connection failed.
const listenRetry = 30 * time.Second

// member is this process's membership of a shared store.
type member struct {
	cluster store.Cluster
	log     *slog.Logger

	mu sync.Mutex
	in store.Instance
}

// newInstanceID names this process uniquely: its host, pid and a random
// part (a pid is reused, a host name may be shared by containers).
func newInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// join records this process in db when db is shared (a store.Cluster),
// as command with cfg; it returns nil when db is not shared.
func join(ctx context.Context, db store.Store, command string, cfg *config.Config, log *slog.Logger) (*member, error) {
	c, ok := db.(store.Cluster)
	if !ok {
		return nil, nil
	}
	host, _ := os.Hostname()
	m := &member{cluster: c, log: log, in: store.Instance{
		ID: newInstanceID(), Host: host, Command: command, Version: newsdesk.Version,
		ConfigHash: cfg.Hash, Sources: len(cfg.Sources),
	}}
	if err := m.cluster.Join(ctx, m.in); err != nil {
		return nil, fmt.Errorf("join the instances sharing %s: %w", db.Path(), err)
	}
	return m, nil
}

// ID is this process's instance id; "" for a store that is not shared.
func (m *member) ID() string {
	if m == nil {
		return ""
	}
	return m.in.ID
}

// configured records a reloaded configuration in this instance's record.
func (m *member) configured(cfg *config.Config) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.in.ConfigHash, m.in.Sources = cfg.Hash, len(cfg.Sources)
	m.mu.Unlock()
	m.beat(context.Background())
}

func (m *member) beat(ctx context.Context) {
	m.mu.Lock()
	in := m.in
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, heartbeatEvery)
	defer cancel()
	if err := m.cluster.Join(ctx, in); err != nil && ctx.Err() == nil {
		m.log.Warn("could not refresh this instance's record in the shared store", "instance", in.ID, "error", err)
	}
}

// heartbeat refreshes this instance's record until ctx is done.
func (m *member) heartbeat(ctx context.Context) {
	if m == nil {
		return
	}
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.beat(ctx)
		}
	}
}

// leave removes this instance's record (at exit; a killed process's record
// ages out instead).
func (m *member) leave() {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.cluster.Leave(ctx, m.in.ID); err != nil {
		m.log.Warn("could not remove this instance's record from the shared store", "instance", m.in.ID, "error", err)
	}
}

// follow re-renders, until ctx is done, the sections that other
// instances' commits changed: woken by the store's notifications, and
// every backstopEvery in case one was lost. render re-renders the given
// sources' sections and the given sections.
func (m *member) follow(ctx context.Context, render func(sources, sections []string)) {
	if m == nil {
		return
	}
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	go m.listen(ctx, poke)
	var seq int64
	t := time.NewTicker(backstopEvery)
	defer t.Stop()
	for {
		ch, err := m.cluster.Changes(ctx, seq)
		switch {
		case err != nil && ctx.Err() == nil:
			m.log.Warn("could not read what other instances changed; trying again", "error", err, "retry_in", backstopEvery)
		case err == nil:
			if seq != 0 && (len(ch.Sources) > 0 || len(ch.Sections) > 0) {
				render(ch.Sources, ch.Sections)
			}
			seq = ch.Seq
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// listen keeps a notification connection open until ctx is done, calling
// poke on each notification, and listening again with backoff after the
// connection fails (the backstop covers what was missed meanwhile).
func (m *member) listen(ctx context.Context, poke func()) {
	wait := time.Second
	for {
		started := time.Now()
		err := m.cluster.Listen(ctx, poke)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > listenRetry {
			wait = time.Second // it worked for a while: not a failure streak
		}
		m.log.Warn("lost the connection that hears of other instances' commits; listening again", "error", err, "retry_in", wait)
		poke() // whatever was missed
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetry)
	}
}

// sectionsOf returns the ids of the sections of cfg that show any of
// sources, and the sections of ids that cfg has, once each.
func sectionsOf(cfg *config.Config, sources, ids []string) []string {
	var out []string
	for _, sec := range cfg.Sections {
		if slices.Contains(ids, sec.ID) || slices.ContainsFunc(sec.Sources, func(id string) bool { return slices.Contains(sources, id) }) {
			out = append(out, sec.ID)
		}
	}
	return out
}
