package newsdesk_test

import (
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

func TestSectionVersionNext(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v1 := newsdesk.SectionVersion{}.Next("a", at("2026-12-01T10:00:00.7Z"))
	if v1.Hash != "a" || !v1.ChangedAt.Equal(at("2026-12-01T10:00:00Z")) {
		t.Fatalf("first version = %+v, want hash a at 10:00:00 (whole seconds)", v1)
	}
	tests := []struct {
		name string
		hash string
		now  string
		want string
	}{
		{"same content, later", "a", "2026-12-01T11:00:00Z", "2026-12-01T10:00:00Z"},
		{"same content, clock set back", "a", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"},
		{"new content, later", "b", "2026-12-01T11:00:00.5Z", "2026-12-01T11:00:00Z"},
		{"new content, same second", "b", "2026-12-01T10:00:00.9Z", "2026-12-01T10:00:00.000000001Z"},
		{"new content, clock set back", "b", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00.000000001Z"},
	}
	for _, tt := range tests {
		got := v1.Next(tt.hash, at(tt.now))
		if got.Hash != tt.hash || !got.ChangedAt.Equal(at(tt.want)) {
			t.Errorf("%s: Next(%q, %s) = %+v, want changed at %s", tt.name, tt.hash, tt.now, got, tt.want)
		}
	}
	// Changes in a burst within one second stay in order.
	v := v1
	for i, h := range []string{"b", "c", "d"} {
		next := v.Next(h, at("2026-12-01T10:00:00.5Z"))
		if !next.ChangedAt.After(v.ChangedAt) {
			t.Errorf("change %d: changed_at %s is not after %s", i, next.ChangedAt, v.ChangedAt)
		}
		v = next
	}
}
