package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The temporary files newsdesk makes beside a database, named after it:
// BASE.compact-* (Compact's new file), BASE.verify-* (the copy `newsdesk
// verify` checks while serve holds the file) and BASE.migrate-* (the copy
// made before a migration, until it is renamed). Each is made and used only
// while its maker holds the database's lock, so one found by a process
// that holds the lock was left by a command that was killed.
const (
	tempCompact = ".compact-"
	tempVerify  = ".verify-"
	tempMigrate = ".migrate-"
)

// removeStaleTemps removes the temporary files of the database at path
// that killed commands left. The caller holds the database's exclusive
// lock. It returns a note for the operator when it removed any.
func removeStaleTemps(path string) string {
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return ""
	}
	var removed []string
	var bytes int64
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), base)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if !strings.HasPrefix(name, tempCompact) && !strings.HasPrefix(name, tempVerify) && !strings.HasPrefix(name, tempMigrate) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			removed = append(removed, e.Name())
			bytes += fi.Size()
		}
	}
	if len(removed) == 0 {
		return ""
	}
	return fmt.Sprintf("removed %d temporary files (%s) that killed commands left beside %s: %s", len(removed), mib(bytes), path, strings.Join(removed, ", "))
}

// copyTemp writes a consistent copy of the database to a new temporary
// file beside it, named BASE+kind+random, synced, and returns its path.
func (db *DB) copyTemp(kind string) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(db.path), filepath.Base(db.path)+kind+"*")
	if err != nil {
		return "", err
	}
	_, err = db.writeTo(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}
