package netguard

import (
	"net/netip"
	"strings"
	"testing"
)

// TestReason judges addresses without dialing any of them.
func TestReason(t *testing.T) {
	tests := []struct {
		addr string
		want string // a part of the reason; "" for public
	}{
		// Public.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.216.34", ""},
		{"100.63.255.255", ""}, // just below carrier-grade NAT
		{"100.128.0.0", ""},    // just above
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"192.0.3.1", ""},
		{"192.88.99.1", ""}, // 6to4 relay anycast: public
		{"198.20.0.1", ""},
		{"223.255.255.255", ""},
		{"2606:4700:4700::1111", ""},
		{"2a00:1450:4001::200e", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", ""},  // 6to4 of 8.8.8.8
		{"2001:200::1", ""},      // just past 2001::/23

		// IPv4.
		{"0.0.0.0", "this network"},
		{"0.1.2.3", "this network"},
		{"10.0.0.1", "private"},
		{"10.255.255.255", "private"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.100.100.200", "Alibaba"},
		{"100.127.255.255", "carrier-grade NAT"},
		{"127.0.0.1", "loopback"},
		{"127.0.0.2", "loopback"},
		{"127.255.255.254", "loopback"},
		{"169.254.169.254", "cloud metadata"},
		{"169.254.0.1", "link-local"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.0.0.192", "IETF protocol"},
		{"192.0.2.1", "documentation"},
		{"192.168.1.1", "private"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"198.51.100.7", "documentation"},
		{"203.0.113.9", "documentation"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "broadcast"},

		// IPv4-mapped: judged as the IPv4.
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.0.0.1", "private"},
		{"::ffff:169.254.169.254", "cloud metadata"},
		{"::ffff:100.100.100.200", "Alibaba"},
		{"::ffff:0.0.0.0", "this network"},

		// IPv6.
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"::169.254.169.254", "IPv4-compatible"},
		{"::8.8.8.8", "IPv4-compatible"},
		{"::ffff:0:a00:1", "not a global unicast"}, // IPv4-translated (SIIT) form
		{"64:ff9b::7f00:1", "IPv6 address of 127.0.0.1, a loopback"},
		{"64:ff9b::a9fe:a9fe", "IPv6 address of 169.254.169.254, a link-local"},
		{"64:ff9b::a00:1", "IPv6 address of 10.0.0.1, a private"},
		{"64:ff9b:1::808:808", "local-use NAT64"},
		{"2002:7f00:1::1", "IPv6 address of 127.0.0.1"},
		{"2002:a9fe:a9fe::", "IPv6 address of 169.254.169.254"},
		{"2002:c0a8:101::1", "IPv6 address of 192.168.1.1"},
		{"100::1", "discard-only"},
		{"2001::1", "Teredo"},
		{"2001:2::1", "benchmarking"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"fc00::1", "unique local"},
		{"fd00:ec2::254", "unique local"}, // AWS metadata over IPv6
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"febf::1", "link-local"},
		{"fec0::1", "site-local"},
		{"ff02::1", "multicast"},
		{"5f00::1", "not a global unicast"}, // SRv6 SIDs
		{"4000::1", "not a global unicast"},
		{"e000::1", "not a global unicast"},
	}
	for _, tt := range tests {
		got := Reason(netip.MustParseAddr(tt.addr))
		switch {
		case tt.want == "" && got != "":
			t.Errorf("Reason(%s) = %q, want public", tt.addr, got)
		case tt.want != "" && !strings.Contains(got, tt.want):
			t.Errorf("Reason(%s) = %q, want it refused as %q", tt.addr, got, tt.want)
		}
	}
	if got := Reason(netip.Addr{}); got == "" {
		t.Error("Reason(zero Addr) = \"\", want it refused")
	}
}

// TestExemptionAllows checks how a request's host is compared with the
