package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// A damaged file must give an error, never a crash. bbolt trusts the file:
// it maps it and follows page ids wherever they point, so a truncated file
// faults in Open (SIGSEGV or SIGBUS, which recover cannot catch unless
// the goroutine asked the runtime to turn faults into panics) and a page
// overwritten with garbage makes it panic ("assertion failed: Page expected
// to be ...") in whichever transaction reads it. So:
//
//   - Before bbolt maps a file, checkFile reads its two meta pages with
//     plain reads and checks that the pages they name fit in the file.
//   - Every transaction runs through DB.update or DB.view, which turn a
//     panic or a memory fault into a DamagedError. A store that panicked
//     stops: every later transaction, and Ping, fail fast with that error.

// DamagedError is a database file that cannot be read safely.
type DamagedError struct {
	Path  string
	Fault string // what is wrong, for the operator
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("database %s is damaged: %s; restore a backup (made with `newsdesk backup FILE`) over it, or run `newsdesk verify` for details", e.Path, e.Fault)
}

func (e *DamagedError) Is(target error) bool { return target == store.ErrDamaged }

// bbolt's on-disk layout (go.etcd.io/bbolt/internal/common, version 2),
// in the machine's byte order: a page header, and in meta pages the meta
// right after it.
const (
	pageHeaderSize   = 16 // id uint64, flags uint16, count uint16, overflow uint32
	metaChecksumEnd  = pageHeaderSize + 56
	metaEnd          = metaChecksumEnd + 8
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
	noFreelist       = ^uint64(0)
	minPageSize      = 1024
	maxPageSize      = 1 << 24 // the largest bbolt looks for
)

// meta is one of bbolt's two meta pages as read from the file.
type meta struct {
	offset                     int64
	pageSize                   uint32
	root, freelist, pgid, txid uint64
	invalid                    string // why bbolt would not use it; "" when valid
}

// fileInfo is what checkFile learned about a bbolt file.
type fileInfo struct {
	size     int64
	pageSize int
	meta     *meta    // the meta page bbolt will use: the valid one with the higher txid
	fault    string   // why bbolt must not map the file; "" when it may
	notes    []string // oddities that do not stop bbolt, such as one torn meta page
}

var byteOrder = binary.NativeEndian

func readMeta(f io.ReaderAt, off int64) meta {
	m := meta{offset: off}
	buf := make([]byte, metaEnd)
	if _, err := f.ReadAt(buf, off); err != nil {
		m.invalid = "cannot be read (" + err.Error() + ")"
		return m
	}
	magic, version := byteOrder.Uint32(buf[16:]), byteOrder.Uint32(buf[20:])
	m.pageSize = byteOrder.Uint32(buf[24:])
	m.root = byteOrder.Uint64(buf[32:])
	m.freelist = byteOrder.Uint64(buf[48:])
	m.pgid = byteOrder.Uint64(buf[56:])
	m.txid = byteOrder.Uint64(buf[64:])
	h := fnv.New64a()
	h.Write(buf[pageHeaderSize:metaChecksumEnd])
	switch {
	case magic != boltMagic:
		m.invalid = "has no bbolt magic number (not a bbolt file, or overwritten)"
	case version != boltVersion:
		m.invalid = fmt.Sprintf("has bbolt file format version %d, not %d", version, boltVersion)
	case byteOrder.Uint64(buf[metaChecksumEnd:]) != h.Sum64():
		m.invalid = "fails its checksum"
	case m.pageSize < minPageSize || m.pageSize > maxPageSize || m.pageSize&(m.pageSize-1) != 0:
		m.invalid = fmt.Sprintf("gives an impossible page size %d", m.pageSize)
	}
	return m
}

// checkFile reads a bbolt file's meta pages with plain reads, as bbolt
// would pick them, and checks that the pages the chosen one names fit in
// the file: what bbolt does not check before it maps the file and follows
// them. An I/O error is returned as such; damage is in the fault field.
func checkFile(f *os.File) (fileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileInfo{}, err
	}
	info := fileInfo{size: fi.Size()}
	if info.size == 0 {
		info.fault = "the file is empty (0 bytes; to start over with no items, delete it)"
		return info, nil
	}
	// Like bbolt: the page size comes from meta page 0, or when that is
	// unreadable from meta page 1, found by trying each page size.
	m0 := readMeta(f, 0)
	var m1 meta
	if m0.invalid == "" {
		m1 = readMeta(f, int64(m0.pageSize))
	} else {
		m1.invalid = "not found"
		for size := int64(minPageSize); size <= maxPageSize && size < info.size-minPageSize; size *= 2 {
			if m := readMeta(f, size); m.invalid == "" && int64(m.pageSize) == size {
				m1 = m
				break
			}
		}
	}
	var valid []*meta
	for i, m := range []*meta{&m0, &m1} {
		if m.invalid == "" {
			valid = append(valid, m)
		} else {
			info.notes = append(info.notes, fmt.Sprintf("meta page %d %s; bbolt uses the other one", i, m.invalid))
		}
	}
	switch len(valid) {
	case 0:
		info.notes = nil
		info.fault = fmt.Sprintf("neither meta page is valid (page 0 %s; page 1 %s)", m0.invalid, m1.invalid)
		return info, nil
	case 2:
		if valid[1].txid > valid[0].txid {
			valid[0] = valid[1]
		}
	}
	m := valid[0]
	info.meta, info.pageSize = m, int(m.pageSize)
	ps := uint64(m.pageSize)
	switch {
	case info.size < 2*int64(ps):
		info.fault = fmt.Sprintf("the file is %d bytes, smaller than its two %d-byte meta pages", info.size, ps)
	case m.pgid < 2 || m.pgid > uint64(info.size)/ps:
		info.fault = fmt.Sprintf("its meta page (transaction %d) says it has %d pages of %d bytes (%d bytes), but the file is %d bytes: it was truncated or overwritten",
			m.txid, m.pgid, ps, m.pgid*ps, info.size)
	case m.root < 2 || m.root >= m.pgid:
		info.fault = fmt.Sprintf("its meta page (transaction %d) names root page %d, outside pages 2 to %d", m.txid, m.root, m.pgid-1)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		info.fault = fmt.Sprintf("its meta page (transaction %d) names free list page %d, outside pages 2 to %d", m.txid, m.freelist, m.pgid-1)
	default:
		info.fault = checkPage(f, m, m.root, "root", branchPageFlag, leafPageFlag)
		if info.fault == "" && m.freelist != noFreelist {
			info.fault = checkPage(f, m, m.freelist, "free list", freelistPageFlag)
		}
	}
	return info, nil
}

// checkPage checks the header of a page the meta page names: its id and
// type, and for the free list, which bbolt reads whole when it opens the
// file for writing, that its entries fit in its pages.
func checkPage(f io.ReaderAt, m *meta, id uint64, what string, flags ...uint16) string {
	ps := uint64(m.pageSize)
	buf := make([]byte, pageHeaderSize+8)
	if _, err := f.ReadAt(buf, int64(id*ps)); err != nil {
		return fmt.Sprintf("its %s page %d cannot be read (%v)", what, id, err)
	}
	gotID, gotFlags := byteOrder.Uint64(buf), byteOrder.Uint16(buf[8:])
	count, overflow := uint64(byteOrder.Uint16(buf[10:])), uint64(byteOrder.Uint32(buf[12:]))
	okFlags := false
	for _, fl := range flags {
		okFlags = okFlags || gotFlags == fl
	}
	if gotID != id || !okFlags {
		return fmt.Sprintf("its %s page %d holds something else (a page that says it is page %d, type %#x)", what, id, gotID, gotFlags)
	}
	if id+overflow >= m.pgid {
		return fmt.Sprintf("its %s page %d runs %d pages past the end of the data", what, id, id+overflow+1-m.pgid)
	}
	if gotFlags == freelistPageFlag {
		entries := count
		if count == 0xFFFF { // the real count is the first entry
			entries = byteOrder.Uint64(buf[pageHeaderSize:]) + 1
		}
		if entries*8 > (overflow+1)*ps-pageHeaderSize {
			return fmt.Sprintf("its free list page %d claims %d entries, more than its %d pages hold", id, entries, overflow+1)
		}
	}
	return ""
}

// lockFile takes the lock bbolt takes on the file (exclusive to write,
// shared to read), waiting up to timeout, so that the file is checked
// under the same lock bbolt then holds: bbolt's own flock on the same
// open file succeeds at once.
func lockFile(f *os.File, exclusive bool, timeout time.Duration) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if time.Now().After(deadline) {
			return bbolt.ErrTimeout
		}
		time.Sleep(50 * time.Millisecond) // bbolt's own retry interval
	}
}

// guarded runs fn, which reads a bbolt file, turning a panic or a memory
// fault (SetPanicOnFault, for this goroutine only) into a DamagedError.
// bbolt runs transactions, Open and Compact in the caller's goroutine;
// Tx.Check runs in its own, which is why verify runs it in a child process.
func guarded(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &DamagedError{Path: path, Fault: fmt.Sprintf("reading it failed inside bbolt (%v)", r)}
		}
	}()
	return fn()
}

// health is the state shared by a DB and the handles Borrow makes of it.
type health struct {
	file    *os.File  // the file bbolt holds open and locked
	commits committer // saves waiting to share a transaction (commit.go)
	claims  claims    // WebSub delivery claims (websub.go)
	damaged atomic.Pointer[DamagedError]
	// wedged is set when a panic may have left bbolt's writer lock held:
	// bbolt's Close would wait for it forever.
	wedged atomic.Bool
}

// Damaged returns the DamagedError of a store that has panicked, or nil.
func (db *DB) Damaged() error {
	if d := db.health.damaged.Load(); d != nil {
		return d
	}
	return nil
}

// update runs a write transaction; a panic in it marks the store damaged.
func (db *DB) update(fn func(*bbolt.Tx) error) error {
	if err := db.Damaged(); err != nil {
		return err
	}
	var tx *bbolt.Tx
	err := guarded(db.path, func() error {
		return db.bdb.Update(func(t *bbolt.Tx) error {
			tx = t
			return fn(t)
		})
	})
	if d, ok := errors.AsType[*DamagedError](err); ok {
		// bbolt releases its writer lock when the transaction closes,
		// which clears tx.DB(); a panic before or during that leaves it held.
		db.markDamaged(d, tx == nil || tx.DB() != nil)
	}
	return err
}

// view runs a read transaction; a panic in it marks the store damaged.
func (db *DB) view(fn func(*bbolt.Tx) error) error {
	if err := db.Damaged(); err != nil {
		return err
	}
	err := guarded(db.path, func() error { return db.bdb.View(fn) })
	if d, ok := errors.AsType[*DamagedError](err); ok {
		db.markDamaged(d, false)
	}
	return err
}

func (db *DB) markDamaged(d *DamagedError, wedged bool) {
	db.health.damaged.CompareAndSwap(nil, d)
	if wedged {
		db.health.wedged.Store(true)
	}
}
