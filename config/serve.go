package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// The checks of what serve would refuse at start: its listen address, its
// control socket's path and the base URL of its feeds.

// maxSocketPath is the longest path a Unix socket may have on Linux: 108
// bytes in sockaddr_un, one of them the terminating NUL.
const maxSocketPath = 107

// SocketPath is the control socket of the database at dbPath, where serve
// (and a cron run) answers the commands of other newsdesk processes.
func SocketPath(dbPath string) string { return dbPath + ".sock" }

// CheckListen checks a listen address as serve's net.Listen("tcp", addr)
// takes it: host:port, the host empty (every interface), an IP or a name,
// the port a number up to 65535 or a service name.
func CheckListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			err = errors.New(ae.Err)
		}
		return fmt.Errorf("%v: write host:port, e.g. 127.0.0.1:8080 or :8080", err)
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 0 || n > 65535 {
			return fmt.Errorf("port %d is out of range: use 1 to 65535", n)
		}
		return nil
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("port %q is not a number or a known service: use 1 to 65535, e.g. 127.0.0.1:8080", port)
	}
	return nil
}

func (p *parser) baseURL(n *yaml.Node, s string) string {
	if err := newsdesk.CheckHTTPURL(s); err != nil {
		p.at(n, "server.base_url %q %v", s, err)
		return s
	}
	if strings.ContainsAny(s, "?#") {
		p.at(n, "server.base_url %q has a query or fragment, which would end up in the middle of every feed URL: give the address the sections are served under, e.g. https://news.example.org/feeds/", s)
		return s
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}
