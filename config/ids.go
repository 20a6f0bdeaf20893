package config

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/newsdesk/newsdesk"
)

// The ids `newsdesk import` gives new sources, and the tags it makes of
// folder names.

// MakeID returns an id for a new source that is a valid feeds.yaml id and
// is not in taken: the title as a slug, else (a title in a script with no
// transliteration here, or none at all) the url's host and path, with -2,
// -3... when it is taken.
func MakeID(title, feedURL string, taken map[string]bool) string {
	base := Slug(title)
	if base == "" {
		if u, err := url.Parse(feedURL); err == nil {
			base = Slug(strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.") + u.Path)
		}
	}
	if base == "" {
		base = "feed"
	}
	if !taken[base] {
		return base
	}
	for n := 2; ; n++ {
		suffix := "-" + strconv.Itoa(n)
		id := cut(base, newsdesk.MaxIDLen-len(suffix)) + suffix
		if !taken[id] {
			return id
		}
	}
}

// Slug makes s a feeds.yaml id or tag: lower-case ASCII of at most 64
// bytes, empty when s has nothing to make one of (only emoji, say). Latin
// letters lose their accents, Cyrillic is transliterated, apostrophes
// vanish ("John's" -> johns), and every other run of characters becomes
// one "-".
func Slug(s string) string {
	var b strings.Builder
	dash := false
	write := func(t string) {
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteString(t)
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			write(string(r))
		case r == '\'' || r == '’' || r == 'ʼ' || unicode.Is(unicode.Mn, r):
			// Apostrophes join words; combining accents just go.
		default:
			if t, ok := translit[r]; ok {
				if t != "" {
					write(t)
				}
				continue
			}
			dash = true
		}
	}
	return cut(b.String(), newsdesk.MaxIDLen)
}

// cut shortens a slug to at most max bytes, at a "-" when there is one in
// the second half, so that words stay whole.
func cut(s string, max int) string {
	if len(s) > max {
		s = s[:max]
		if i := strings.LastIndexByte(s, '-'); i > max/2 {
			s = s[:i]
		}
	}
	return strings.Trim(s, "-")
}

// translit maps lower-case letters to ASCII: Latin letters with accents
// and ligatures, and Cyrillic (Russian, Ukrainian, Belarusian, Serbian,
// Macedonian, Bulgarian) in the simple scheme news sites use for URLs.
var translit = map[rune]string{}

func init() {
	for ascii, letters := range map[string]string{
		"a": "àáâãäåāăąǎ", "ae": "æ", "c": "çćĉċč", "d": "ďđð", "e": "èéêëēĕėęě",
		"g": "ĝğġģ", "h": "ĥħ", "i": "ìíîïĩīĭįı", "ij": "ĳ", "j": "ĵ", "k": "ķ",
		"l": "ĺļľŀł", "n": "ñńņňŉ", "o": "òóôõöøōŏőǒ", "oe": "œ", "r": "ŕŗř",
		"s": "śŝşšș", "ss": "ß", "t": "ţťŧț", "th": "þ", "u": "ùúûüũūŭůűųǔ",
		"w": "ŵ", "y": "ýÿŷ", "z": "źżž",

		"b": "б", "v": "в", "f": "ф", "m": "м", "p": "п", "zh": "ж", "kh": "х",
		"ts": "ц", "ch": "ч", "sh": "ш", "shch": "щ", "yu": "ю", "ya": "я", "ye": "є",
		"yi": "ї", "dj": "ђ", "lj": "љ", "nj": "њ", "dz": "џѕ", "gj": "ѓ", "kj": "ќ",
	} {
		for _, r := range letters {
			translit[r] = ascii
		}
	}
	// Cyrillic letters that share an ASCII letter with the ones above.
	for r, ascii := range map[rune]string{
		'а': "a", 'г': "g", 'ґ': "g", 'д': "d", 'е': "e", 'ё': "e", 'э': "e", 'з': "z",
		'и': "i", 'і': "i", 'й': "y", 'ы': "y", 'к': "k", 'л': "l", 'н': "n", 'о': "o",
		'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ў': "u", 'ј': "j", 'ћ': "c", 'ъ': "", 'ь': "",
	} {
		translit[r] = ascii
	}
}
