package badger

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	bdg "github.com/dgraph-io/badger/v4"
)

// syncer makes every batch committed so far durable: badger's DB.Sync plus
// the files it misses. doc.go explains each step with references to the
// badger source.
type syncer struct {
	dir string

	// vlogDirty is set after a value went to the value log (a value of
	// ValueThreshold bytes or more, or a value-log GC rewrite) and cleared
	// by the sync that makes it durable.
	vlogDirty atomic.Bool

	mu sync.Mutex // serialises syncs; guards the fields below
	// vlogFrom is the id of the newest value-log file at the last sync:
	// files with this id or above may hold data no sync has covered.
	vlogFrom uint64
	// dirSum fingerprints the directory's file names at the last directory
	// fsync; dirSynced reports whether there was one.
	dirSum    uint64
	dirSynced bool
}

// sync returns once every batch whose Commit returned before the call is on
// stable storage.
func (s *syncer) sync(db *bdg.DB) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	// 1. The value log before the write-ahead log that points into it, so
	// that a crash during this sync cannot leave a durable WAL entry whose
	// value is not (DB.Sync syncs the WAL first, db.go:741-745).
	if s.vlogDirty.Swap(false) {
		files, err := listFiles(s.dir)
		if err == nil {
			err = s.fsyncVlogs(files.vlogs)
		}
		if err != nil {
			s.vlogDirty.Store(true)
			return err
		}
	}

	// 2. Every memtable WAL, oldest first, and the value-log files rotated
	// since the last sync. A batch committed before this sync is in one of
	// the WALs listed now (or in a table, which badger syncs when it
	// flushes, before it removes the WAL). Oldest first: badger replays
	// each WAL on its own, so a newer one made durable before an older one
	// would leave a hole in the log if the power went in between. The
	// active WAL's fsync costs little: DB.Sync's msync of it follows.
	files, err := listFiles(s.dir)
	if err != nil {
		return err
	}
	for _, m := range files.mems {
		if err := fsyncFile(filepath.Join(s.dir, m.name)); err != nil {
			return err
		}
	}
	if n := len(files.vlogs); n > 0 {
		if err := s.fsyncVlogs(files.vlogs[:n-1]); err != nil {
			return err
		}
		s.vlogFrom = files.vlogs[n-1].id
	}

	// 3. Badger's own sync: msync of the active memtable's WAL and of the
	// newest value-log file.
	if err := db.Sync(); err != nil {
		return wrapErr(s.dir, "sync the write-ahead log and the value log", err)
	}

	// 4. The directory, when files were created or removed since the last
	// time: badger does not fsync it after creating a memtable WAL or a
	// value-log file (ristretto z/file.go:48-53 syncs only zero-sized new
	// files; value.go:526-553), nor after flushing a memtable to a table.
	if !s.dirSynced || files.sum != s.dirSum {
		if err := fsyncFile(s.dir); err != nil {
			return err
		}
		s.dirSum, s.dirSynced = files.sum, true
	}
	return nil
}

// fsyncVlogs fsyncs the value-log files among vlogs that are not older than
// vlogFrom.
func (s *syncer) fsyncVlogs(vlogs []logName) error {
	for _, v := range vlogs {
		if v.id < s.vlogFrom {
			continue
		}
		if err := fsyncFile(filepath.Join(s.dir, v.name)); err != nil {
			return err
		}
	}
	return nil
}

// dirFiles is what sync needs to know about a store's directory.
type dirFiles struct {
	mems  []logName // the memtable WALs (NNNNN.mem), by ascending id
	vlogs []logName // the value-log files (NNNNNN.vlog), by ascending id
	sum   uint64    // FNV-1a of every file name
}

// logName is a numbered log file.
type logName struct {
	id   uint64
	name string
}

func listFiles(dir string) (dirFiles, error) {
	var f dirFiles
	entries, err := os.ReadDir(dir)
	if err != nil {
		return f, fmt.Errorf("badger: list %s to sync it: %w", dir, err)
	}
	h := fnv.New64a()
	for _, e := range entries {
		name := e.Name()
		h.Write([]byte(name))
		h.Write([]byte{0})
		stem, ext, ok := strings.Cut(name, ".")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(stem, 10, 64)
		if err != nil {
			continue
		}
		switch ext {
		case "mem":
			f.mems = append(f.mems, logName{id, name})
		case "vlog":
			f.vlogs = append(f.vlogs, logName{id, name})
		}
	}
	// By number: the names are zero-padded, but only to 5 and 6 digits.
	byID := func(a, b logName) int { return cmp.Compare(a.id, b.id) }
	slices.SortFunc(f.mems, byID)
	slices.SortFunc(f.vlogs, byID)
	f.sum = h.Sum64()
	return f, nil
}

// fsyncFile fsyncs the file or directory at path. A file that no longer
// exists is not an error: badger deletes a memtable WAL only after the table
// it was flushed to is synced and recorded in the synced MANIFEST, and a
// value-log file only after value-log GC moved its live values to the
// newest files, which this sync covers.
//
// On Linux, fsync through a new descriptor writes back the pages dirtied
// through badger's shared memory maps, exactly as msync(MS_SYNC) does: both
// flush the file's page cache (vfs_fsync_range).
func fsyncFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("badger: open %s to sync it: %w", path, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("badger: sync %s: %w (durability of the committed batches is unknown: treat the store as failed)", path, err)
	}
	return nil
}
