package newsdesk

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// trackingParams are query parameters that only identify a campaign or a
// click: they are dropped from links so readers never carry someone else's
// tracking tags and the same story linked twice is recognised as one.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gbraid": true, "wbraid": true, "msclkid": true,
	"mc_cid": true, "mc_eid": true, "yclid": true, "_ga": true, "_gl": true, "igshid": true,
	"ref_src": true, "ref_url": true, "twclid": true, "ttclid": true, "li_fat_id": true,
	"mkt_tok": true, "oly_anon_id": true, "oly_enc_id": true, "vero_id": true, "_hsenc": true,
	"_hsmi": true, "__hstc": true, "__hssc": true, "__hsfp": true, "hsctatracking": true,
	"wt.mc_id": true, "cmpid": true, "s_cid": true, "rb_clickid": true, "spm": true,
}

// trackingPrefixes are families of tracking parameters (utm_source, utm_medium...).
var trackingPrefixes = []string{"utm_", "pk_", "mtm_", "at_"}

// CanonicalLink is the form of a link that newsdesk stores, compares and
// republishes: scheme and host in lower case, the default port dropped, the
// fragment dropped, tracking parameters dropped and the other query
// parameters kept in their order. A string that is not an absolute http(s)
// URL is returned unchanged.
func CanonicalLink(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return s
	}
	host := strings.ToLower(u.Host)
	if h, port, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") &&
		(u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443" || port == "") {
		host = h
	} else if strings.HasPrefix(host, "[") {
		if u.Scheme == "http" && strings.HasSuffix(host, "]:80") || u.Scheme == "https" && strings.HasSuffix(host, "]:443") {
			host = host[:strings.LastIndex(host, ":")]
		}
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	if u.RawQuery != "" {
		// Filter the raw query so the order and the encoding of the
		// parameters that stay are kept exactly.
		var kept []string
		for _, part := range strings.Split(u.RawQuery, "&") {
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if !isTracking(strings.ToLower(name)) {
				kept = append(kept, part)
			}
		}
		u.RawQuery = strings.Join(kept, "&")
	}
	u.ForceQuery = false
	return u.String()
}

// URLKey is the form in which two URLs count as the same feed (import
// skips a feed whose URL feeds.yaml already has): CanonicalLink, where a
// trailing slash of the path does not count either. It is for comparing
// only; what newsdesk stores and fetches is the URL as written.
func URLKey(s string) string {
	c := CanonicalLink(strings.TrimSpace(s))
	u, err := url.Parse(c)
	if err != nil || u.Host == "" {
		return c
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String()
}

func isTracking(name string) bool {
	if trackingParams[name] {
		return true
	}
	for _, p := range trackingPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// CheckHTTPURL says why s is not an absolute http or https URL with a host
// name, or returns nil when it is. It is the one rule for every URL newsdesk
// fetches or republishes (feeds.yaml's URLs; feed, item, author, enclosure
// and source links): anything else, a javascript: or data: URL above all, is
// refused or dropped. The reason is worded to follow the URL in a message:
// `url "ftp://x" must start with http:// or https://`.
func CheckHTTPURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("is not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must start with http:// or https://")
	case u.Host == "":
		return errors.New("has no host name")
	}
	return nil
}

// IsHTTPURL reports whether s is an absolute http or https URL with a host
// name (CheckHTTPURL).
func IsHTTPURL(s string) bool { return CheckHTTPURL(s) == nil }

// HTTPURL is s without surrounding white space when that is an absolute
// http or https URL (CheckHTTPURL), and "" otherwise: what newsdesk keeps
// and republishes of a URL that comes from a feed.
func HTTPURL(s string) string {
	s = strings.TrimSpace(s)
	if !IsHTTPURL(s) {
		return ""
	}
	return s
}

// IsFeedID reports whether s may be republished as a source feed's id
// (atom:source's atom:id): an http(s) URL, or a tag: or urn: IRI such as
// Atom publishers use. A feed's id is not followed as a link, but some
// readers do so when an entry has none, so no other scheme passes.
func IsFeedID(s string) bool {
	if IsHTTPURL(s) {
		return true
	}
	scheme, rest, ok := strings.Cut(s, ":")
	scheme = strings.ToLower(scheme)
	return ok && (scheme == "tag" || scheme == "urn") && rest != "" &&
		!strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
