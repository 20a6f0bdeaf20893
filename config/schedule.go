package config

import (
	"errors"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// cronSchedule is a source's schedule: the cron library's, with the text
// it was read from.
type cronSchedule struct {
	cron.Schedule
	text string
}

func (s cronSchedule) String() string { return s.text }

// parsedSchedule is a schedule as read once, for every source that shares
// its text.
type parsedSchedule struct {
	sched newsdesk.Schedule
	gap   time.Duration
	err   error
}

// schedule reads a cron schedule; like an interval, it may not fire more
// often than once a minute. It is nil when the schedule is not valid.
func (p *parser) schedule(n *yaml.Node) newsdesk.Schedule {
	s := strings.TrimSpace(p.str(n))
	ps, ok := p.schedules[s]
	if !ok { // thousands of sources often share a few schedules
		ps.sched, ps.gap, ps.err = parseSchedule(s)
		if p.schedules == nil {
			p.schedules = map[string]parsedSchedule{}
		}
		p.schedules[s] = ps
	}
	switch {
	case ps.err != nil:
		p.at(n, "bad schedule %q: %v (use cron syntax: minute hour day-of-month month day-of-week, e.g. \"*/10 6-23 * * *\")", s, ps.err)
		return nil
	case ps.gap < newsdesk.MinInterval:
		p.at(n, "schedule %q fires every %s, more often than once every %s: polling that often burdens the publisher (e.g. @every 10m, or \"*/10 * * * *\")", s, ps.gap, newsdesk.MinInterval)
		return nil
	}
	return ps.sched
}

// scheduleSamples is how many consecutive fire times parseSchedule
// compares: eight hours of an every-minute schedule, a year of a daily one
// (about 0.6 ms).
const scheduleSamples = 500

// parseSchedule reads a cron expression as feeds.yaml's `schedule` takes it
// (five fields: minute hour day-of-month month day-of-week, no seconds; or
// a descriptor such as @hourly or @every 10m; in local time unless it
// starts with CRON_TZ=Zone) and returns it with the shortest time between
// two of its consecutive fire times, over its next scheduleSamples fire
// times from a fixed start, so that check gives the same answer on every
// run. @every durations are their own gap; a five-field expression fires at
// most once a minute except around a daylight-saving change. A schedule
// that never fires (0 0 30 2 *) is an error.
func parseSchedule(expr string) (newsdesk.Schedule, time.Duration, error) {
	sched, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, 0, err
	}
	t := sched.Next(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if t.IsZero() {
		return nil, 0, errors.New("it never fires (no such date)")
	}
	shortest := time.Duration(-1)
	for range scheduleSamples {
		next := sched.Next(t)
		if next.IsZero() {
			break
		}
		if gap := next.Sub(t); shortest < 0 || gap < shortest {
			shortest = gap
		}
		t = next
	}
	if shortest < 0 { // fires once in the five years cron looks ahead
		shortest = 5 * 365 * 24 * time.Hour
	}
	return cronSchedule{Schedule: sched, text: expr}, shortest, nil
}
