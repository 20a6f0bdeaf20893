package newsdesk_test

import (
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

// TestParseItemID: what URN and Short write, ParseItemID reads back.
func TestParseItemID(t *testing.T) {
	ref := newsdesk.ItemRef{SourceID: "moscow-times", ID: "https://example.com/a"}
	for _, s := range []string{ref.URN(), "URN:NewsDesk:moscow-times:" + strings.ToUpper(ref.Hash()), ref.Short(), " " + ref.URN()} {
		src, hash, ok := newsdesk.ParseItemID(s)
		if !ok || src != ref.SourceID || !strings.HasPrefix(ref.Hash(), hash) || len(hash) < 12 {
			t.Errorf("ParseItemID(%q) = %q, %q, %v; want %q and a prefix of %q", s, src, hash, ok, ref.SourceID, ref.Hash())
		}
	}
	if !strings.HasPrefix(ref.URN(), "urn:newsdesk:moscow-times:") {
		t.Errorf("URN() = %q, want urn:newsdesk:SOURCE:HASH", ref.URN())
	}
	for _, s := range []string{"e5744b7eba43", ":abc", ""} {
		if src, hash, ok := newsdesk.ParseItemID(s); ok {
			t.Errorf("ParseItemID(%q) = %q, %q, true; want no source part", s, src, hash)
		}
	}
}
