package config

import (
	"strings"
	"testing"
	"time"
)

func TestShortestGap(t *testing.T) {
	tests := []struct {
		expr    string
		want    time.Duration
		wantErr string
	}{
		{"@every 1s", time.Second, ""},
		{"@every 90s", 90 * time.Second, ""},
		{"* * * * *", time.Minute, ""},
		{"*/10 6-23 * * *", 10 * time.Minute, ""},
		{"0,1 9 * * *", time.Minute, ""},
		{"@hourly", time.Hour, ""},
		{"CRON_TZ=Europe/Moscow 0 9 * * 1-5", 24 * time.Hour, ""},
		{"0 0 30 2 *", 0, "never fires"},
		{"* * * * * *", 0, "expected exactly 5 fields"}, // no seconds field in feeds.yaml
	}
	for _, tt := range tests {
		_, got, err := parseSchedule(tt.expr)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseSchedule(%q) error = %v, want one containing %q", tt.expr, err, tt.wantErr)
			}
		case err != nil || got != tt.want:
			t.Errorf("parseSchedule(%q) gap = %s, %v; want %s", tt.expr, got, err, tt.want)
		}
	}
}

// TestScheduleNext: a source's schedule is parsed once, keeps its text for
// status, and gives the cron library's next times; interval and schedule
// replace each other between defaults and a source.
func TestScheduleNext(t *testing.T) {
	cfg, err := Parse("feeds.yaml", "/etc/newsdesk", []byte(`
defaults:
  schedule: "CRON_TZ=UTC */10 6-23 * * *"
sources:
  - id: default
    url: https://a.example/rss
  - id: own
    url: https://b.example/rss
    schedule: " CRON_TZ=UTC 0 6 * * * "
  - id: interval
    url: https://c.example/rss
    interval: 20m
sections:
  - id: s
    sources: [default, own, interval]
`))
	if err != nil {
		t.Fatal(err)
	}
	thursdayNoon := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		id, text string
		next     time.Time
	}{
		{"default", "CRON_TZ=UTC */10 6-23 * * *", thursdayNoon.Add(10 * time.Minute)},
		{"own", "CRON_TZ=UTC 0 6 * * *", thursdayNoon.Add(18 * time.Hour)},
	} {
		src, _ := cfg.Source(tt.id)
		if src.Schedule == nil || !src.IntervalSet {
			t.Fatalf("source %q: Schedule = %v, IntervalSet = %v; want a schedule", tt.id, src.Schedule, src.IntervalSet)
		}
		if got := src.Schedule.String(); got != tt.text {
			t.Errorf("source %q: schedule text = %q, want %q", tt.id, got, tt.text)
		}
		if got := src.Schedule.Next(thursdayNoon); !got.Equal(tt.next) {
			t.Errorf("source %q: Next(%v) = %v, want %v", tt.id, thursdayNoon, got, tt.next)
		}
	}
	if src, _ := cfg.Source("interval"); src.Schedule != nil || src.Interval != 20*time.Minute || !src.IntervalSet {
		t.Errorf("source with an interval: Schedule = %v, Interval = %v; want no schedule, 20m", src.Schedule, src.Interval)
	}
}
