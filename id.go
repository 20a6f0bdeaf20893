package newsdesk

// MaxIDLen is the longest id of a source, section or tag, in bytes.
const MaxIDLen = 64

// IDRule says in words what ValidID accepts, for messages.
const IDRule = "1 to 64 lower-case letters, digits, - and _, starting with a letter or digit"

// ValidID reports whether id may name a source, a section or a tag:
// IDRule, the regular expression ^[a-z0-9][a-z0-9_-]{0,63}$. Ids become
// file names, URL path segments and store keys, so nothing that could
// climb out of a folder or need escaping passes. It is the one rule for
// ids: feeds.yaml is checked with it, import makes ids that pass it, and
// the publisher serves only the sections whose ids pass it.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
