package newsdesk

import "time"

// The defaults of feeds.yaml, in one place: config applies them to what
// the file leaves out, and fetcher falls back on them for a Source or a
// Scheduler built without config (tests, other callers).
const (
	// DefaultInterval is how often a source is polled when feeds.yaml
	// gives no interval or schedule.
	DefaultInterval = 15 * time.Minute
	// MinInterval is the shortest time between two polls of a source,
	// whatever feeds.yaml says: config rejects shorter intervals and
	// schedules, and fetcher never polls sooner.
	MinInterval = time.Minute
	// DefaultTimeout bounds a fetch whose source sets no timeout, so that
	// a server trickling a byte a second cannot hold a fetch forever.
	DefaultTimeout = 30 * time.Second
	// MaxTimeout is the longest timeout feeds.yaml may give a source.
	MaxTimeout = 10 * time.Minute
	// DefaultMaxBody caps a response body after decompression (max_body).
	DefaultMaxBody = 10 << 20
	// DefaultMaxItemsPerFetch is max_items_per_fetch when feeds.yaml gives
	// none: far more than any real feed carries, far less than a hostile
	// one can.
	DefaultMaxItemsPerFetch = 5000
	// DefaultConcurrency is fetch.concurrency: fetches in flight at once.
	DefaultConcurrency = 8
	// DefaultPerHost is fetch.per_host: fetches in flight to one host at
	// once.
	DefaultPerHost = 1
)

// DefaultRetention is the retention when feeds.yaml gives none.
var DefaultRetention = Retention{MaxAge: 720 * time.Hour, MaxItems: 500, MinItems: 20}
