package publisher

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// The content types of the published files.
const (
	typeHTML = "text/html; charset=utf-8"
	typeOPML = "text/x-opml; charset=utf-8"
	typeRSS  = "application/rss+xml; charset=utf-8"
	typeAtom = "application/atom+xml; charset=utf-8"
	typeJSON = "application/feed+json"
)

// defaultMaxAge is the Cache-Control max-age of the index, the OPML list and
// of a section none of whose sources has an interval.
const defaultMaxAge = 300 * time.Second

// sectionExts are the extensions of a section's files: its three feeds and
// its HTML page.
var sectionExts = []string{".rss", ".atom", ".json", ".html"}

// file is one published file. Its body is compressed once, when it is
// rendered, and every header value a response needs is computed then too, so
// that serving it is a map lookup and a write.
type file struct {
	Body         []byte // must not be modified
	Gzip         []byte // Body compressed with gzip; must not be modified
	ContentType  string
	ETag         string        // strong and quoted: a hash of Body, "HASH"
	GzipETag     string        // the ETag of the gzip encoding, "HASH-gz"
	LastModified time.Time     // a section file's: its version's ChangedAt; zero for the index and OPML list
	MaxAge       time.Duration // for Cache-Control

	token string // the private section's token; empty: public
	hdr   *fileHeaders
}

// fileHeaders are a file's response header values. The slices are assigned
// to every response's header map as they are and must not be modified.
type fileHeaders struct {
	contentType  []string
	cacheControl []string
	lastModified []string // nil when LastModified is zero
	link         []string // WebSub's Link header (hub and self); nil: none
	html         bool     // gets a Content-Security-Policy
	identity     encoding
	gzip         encoding
}

// encoding is one encoding of a file's body.
type encoding struct {
	body   []byte
	etag   []string
	length []string
	gzip   bool
}

// newFile makes the file of a body: its gzip encoding, ETags and header
// values. A private file (token set) is marked private for caches.
func newFile(contentType string, body []byte, modified time.Time, maxAge time.Duration, token string) (*file, error) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	// The gzip header carries no name and no time: the bytes, like the
	// body's, depend on the body only.
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:8])
	f := &file{
		Body:         body,
		Gzip:         gz.Bytes(),
		ContentType:  contentType,
		ETag:         `"` + hash + `"`,
		GzipETag:     `"` + hash + `-gz"`,
		LastModified: modified,
		MaxAge:       maxAge,
		token:        token,
	}
	cache := "public"
	if token != "" {
		// Caches shared between users must not keep what only a token
		// holder may see.
		cache = "private"
	}
	f.hdr = &fileHeaders{
		contentType:  []string{contentType},
		cacheControl: []string{cache + ", max-age=" + strconv.FormatInt(maxAgeSeconds(maxAge), 10)},
		html:         contentType == typeHTML,
		identity:     encoding{body: f.Body, etag: []string{f.ETag}, length: []string{strconv.Itoa(len(f.Body))}},
		gzip:         encoding{body: f.Gzip, etag: []string{f.GzipETag}, length: []string{strconv.Itoa(len(f.Gzip))}, gzip: true},
	}
	if !modified.IsZero() {
		f.hdr.lastModified = []string{modified.UTC().Format(http.TimeFormat)}
	}
	return f, nil
}
