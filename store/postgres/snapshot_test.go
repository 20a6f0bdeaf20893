package postgres

import "testing"

// TestSnapshotSawMore checks the comparison of two snapshots' views of
// which transactions were done, including transactions still in progress
// at one and done at the other, and ids assigned but not yet done.
func TestSnapshotSawMore(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool // a saw a transaction done that b did not
	}{
		{"10:10:", "10:10:", false},
		{"10:12:", "10:10:", true},        // 10 and 11 finished after b
		{"10:12:10,11", "10:10:", false},  // assigned after b, still running at a
		{"10:12:10", "10:10:", true},      // 11 done at a
		{"10:15:12", "10:12:10,11", true}, // 10 and 11 done at a
		{"10:12:10,11", "10:12:10,11", false},
		{"10:12:10,11", "10:12:11", false}, // a is the older
		{"10:12:11", "10:12:10,11", true},
		{"5:8:", "10:12:", false}, // a before b
		{"12:12:", "10:12:10", true},
	} {
		a, err := parseSnapshot(tt.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := parseSnapshot(tt.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.sawMore(b); got != tt.want {
			t.Errorf("%s sawMore %s = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	for _, bad := range []string{"", "1:2", "a:2:", "3:2:", "1:5:7", "1:5:x"} {
		if _, err := parseSnapshot(bad); err == nil {
			t.Errorf("parseSnapshot(%q): no error", bad)
		}
	}
	// A stored position past the current snapshot is another history's
	// (a restored dump): not ahead.
	ours, _ := parseSnapshot("10:10:")
	if isBehind(ours, "90:95:", "20:20:") {
		t.Error("isBehind with a stored position past the current one = true, want false")
	}
	if !isBehind(ours, "12:15:", "20:20:") || isBehind(ours, "garbage", "20:20:") {
		t.Error("isBehind: wrong answer for a newer stored position or an unreadable one")
	}
}
