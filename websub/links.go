package websub

import (
	"net/url"
	"strings"

	"github.com/newsdesk/newsdesk"
)

// ParseLinks returns the WebSub links (rel="hub" and rel="self") of the
// Link header values given (RFC 8288: several headers, several links per
// header, rel quoted or not with several space-separated values, compared
// without case), each URL resolved against base, the URL of the response.
// Hubs keep the order they are given in, without repeats; the first self
// wins. A malformed link is skipped, not an error: the header comes from
// the publisher.
func ParseLinks(headers []string, base *url.URL) newsdesk.WebSubLinks {
	var l newsdesk.WebSubLinks
	for _, h := range headers {
		for _, lk := range splitLinks(h) {
			ref, err := url.Parse(lk.target)
			if err != nil {
				continue
			}
			if base != nil {
				ref = base.ResolveReference(ref)
			}
			if ref.Scheme != "http" && ref.Scheme != "https" || ref.Host == "" {
				continue
			}
			u := ref.String()
			for _, rel := range lk.rels {
				switch rel {
				case "hub":
					addHub(&l, u)
				case "self":
					if l.Self == "" {
						l.Self = u
					}
				}
			}
		}
	}
	return l
}

// link is one link-value of a Link header: its target and rel values,
// lowercased.
type link struct {
	target string
	rels   []string
}

// splitLinks parses one Link header value into its links. It scans rather
// than splitting on commas, because a quoted parameter may hold one.
func splitLinks(h string) []link {
	var out []link
	s := h
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return out
		}
		lk := link{target: strings.TrimSpace(s[i+1 : i+j])}
		s = s[i+j+1:]
		// Parameters, up to the comma that ends the link-value.
		for {
			s = strings.TrimLeft(s, " \t")
			if s == "" || s[0] == ',' {
				break
			}
			if s[0] != ';' {
				// Garbage: skip to the next link-value.
				k := strings.IndexByte(s, ',')
				if k < 0 {
					s = ""
				} else {
					s = s[k:]
				}
				break
			}
			s = strings.TrimLeft(s[1:], " \t")
			k := strings.IndexAny(s, "=;,")
			name := s
			if k >= 0 {
				name = s[:k]
			}
			name = strings.ToLower(strings.TrimSpace(name))
			var value string
			if k >= 0 && s[k] == '=' {
				s = strings.TrimLeft(s[k+1:], " \t")
				value, s = paramValue(s)
			} else if k >= 0 {
				s = s[k:]
			} else {
				s = ""
			}
			if name == "rel" && lk.rels == nil {
				// RFC 8288 3.3: only the first rel counts.
				lk.rels = strings.Fields(strings.ToLower(value))
				if lk.rels == nil {
					lk.rels = []string{}
				}
			}
		}
		out = append(out, lk)
	}
}

// paramValue reads a parameter value, a quoted-string or a token, from the
// start of s and returns it and the rest of s.
func paramValue(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				return b.String(), s[i+1:]
			default:
				b.WriteByte(c)
			}
		}
		return b.String(), ""
	}
	k := strings.IndexAny(s, ";,")
	if k < 0 {
		return strings.TrimSpace(s), ""
	}
	return strings.TrimSpace(s[:k]), s[k:]
}

// addHub appends hub to l.Hubs unless it is there already.
func addHub(l *newsdesk.WebSubLinks, hub string) {
	for _, h := range l.Hubs {
		if h == hub {
			return
		}
	}
	l.Hubs = append(l.Hubs, hub)
}
