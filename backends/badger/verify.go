package badger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/durablelog/eventstore/backend"
)

// verifyTables checks every block checksum of every table that the MANIFEST
// in dir lists, before badger opens them. It returns an error wrapping
// backend.ErrCorrupt that names the first damaged table.
//
// Badger can do this itself (ChecksumVerificationMode OnTableRead), but in
// v4.9.6 a damaged block makes Table.VerifyChecksum dereference a nil block
// while formatting its error (table/table.go:707-711), in the goroutine that
// newLevelsController starts for each table (levels.go:119-140): the process
// dies instead of Open returning an error. Here the same check runs under
// recover, with ChkMode NoVerification so that Table.VerifyChecksum verifies
// each block itself and returns its checksum error.
//
// Only tables listed in the MANIFEST are checked: a table file that a crash
// left behind unlisted is deleted by badger on open (levels.go:55-60) and
// may legitimately be torn.
func verifyTables(dir string, bo bdg.Options) error {
	f, err := os.Open(filepath.Join(dir, bdg.ManifestFilename))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a new store
	}
	if err != nil {
		return fmt.Errorf("badger: open the MANIFEST of %s: %w", dir, err)
	}
	m, _, err := bdg.ReplayManifestFile(f, bo.ExternalMagicVersion, bo)
	if cerr := f.Close(); err == nil && cerr != nil {
		return fmt.Errorf("badger: close the MANIFEST of %s: %w", dir, cerr)
	}
	if err != nil {
		return wrapErr(dir, "read the MANIFEST", err)
	}

	ids := make([]uint64, 0, len(m.Tables))
	for id := range m.Tables {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })

	// A few tables at a time: each check holds one table's decompressed
	// blocks in memory until it returns.
	workers := min(runtime.GOMAXPROCS(0), 4)
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				errs[i] = verifyTable(table.NewFilename(ids[i], dir), m.Tables[ids[i]], bo.BlockSize)
			}
		})
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// verifyTable checks every block checksum of the table in path.
func verifyTable(path string, tm bdg.TableManifest, blockSize int) (err error) {
	damaged := func(cause any) error {
		return fmt.Errorf("badger: %w: table %s (in %s) failed its checksum verification: %v (restore the store from a backup or a replica)",
			backend.ErrCorrupt, filepath.Base(path), filepath.Dir(path), cause)
	}
	if tm.KeyID != 0 {
		return fmt.Errorf("badger: table %s is encrypted (data key %d); this engine does not open encrypted stores", path, tm.KeyID)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return damaged("the file listed in the MANIFEST is missing")
	case err != nil:
		return fmt.Errorf("badger: open table %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("badger: open table %s: not a regular file (%s)", path, fi.Mode().Type())
	case fi.Size() == 0:
		return damaged("the file is empty")
	}
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("badger: open table %s: %w", path, err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = damaged(fmt.Sprintf("badger panicked reading it: %v", r))
		}
		// table.OpenTable closes mf itself on some of its errors.
		if mf.Fd.Fd() != ^uintptr(0) {
			if cerr := mf.Close(-1); cerr != nil && err == nil {
				err = fmt.Errorf("badger: close table %s after its verification: %w", path, cerr)
			}
		}
	}()
	t, err := table.OpenTable(mf, table.Options{
		ReadOnly:    true,
		ChkMode:     options.NoVerification, // VerifyChecksum then checks each block itself
		Compression: tm.Compression,
		BlockSize:   blockSize,
	})
	if err != nil {
		return damaged(err) // a table listed in the MANIFEST whose footer or index does not parse
	}
	// Not t.DecrRef: dropping the last reference deletes the file.
	if err := t.VerifyChecksum(); err != nil {
		return damaged(err)
	}
	return nil
}
