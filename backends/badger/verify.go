package badger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/durablelog/eventstore/backend"
)

// readManifest returns the tables that the MANIFEST in dir lists, or none
// for a new store.
func readManifest(dir string, bo bdg.Options) (map[uint64]bdg.TableManifest, error) {
	f, err := os.Open(filepath.Join(dir, bdg.ManifestFilename))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a new store
	}
	if err != nil {
		return nil, fmt.Errorf("badger: open the MANIFEST of %s: %w", dir, err)
	}
	m, _, err := bdg.ReplayManifestFile(f, bo.ExternalMagicVersion, bo)
	if cerr := f.Close(); err == nil && cerr != nil {
		return nil, fmt.Errorf("badger: close the MANIFEST of %s: %w", dir, cerr)
	}
	if err != nil {
		return nil, wrapErr(dir, "read the MANIFEST", err)
	}
	return m.Tables, nil
}

// tableCheck is the outcome of checking one table at Open.
type tableCheck struct {
	fp     fingerprint
	full   bool // every block was verified
	record bool // fp may be recorded as verified
	err    error
}

// checkListed checks the table id that the MANIFEST lists: in full, unless
// rec holds its current fingerprint. now was read before the call.
func (v *verifier) checkListed(id uint64, tm bdg.TableManifest, rec record, now time.Time) tableCheck {
	path := table.NewFilename(id, v.dir)
	if tm.KeyID != 0 {
		return tableCheck{err: fmt.Errorf("badger: table %s is encrypted (data key %d); this engine does not open encrypted stores", path, tm.KeyID)}
	}
	fp, usable, err := statTable(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return tableCheck{err: damagedTable(path, "the file listed in the MANIFEST is missing")}
	case err != nil:
		return tableCheck{err: fmt.Errorf("badger: open table %s: %w", path, err)}
	case fp.size == 0:
		return tableCheck{err: damagedTable(path, "the file is empty")}
	}
	if old, ok := rec[id]; ok && usable && old == fp {
		return tableCheck{fp: fp, record: true, err: checkTable(path, tm, v.blockSize, false)}
	}
	err = checkTable(path, tm, v.blockSize, true)
	return tableCheck{fp: fp, full: true, record: err == nil && usable && fp.settled(now), err: err}
}

// checkTable checks the table in path, under recover. With full set it
// verifies the checksum of every block. Without, it checks what badger
// reads from a table when it opens one (table.OpenTable): the footer, the
// index and its checksum, and the last block and its checksum. Either way a
// damaged table yields an error wrapping backend.ErrCorrupt instead of
// badger's panic in a goroutine of its Open (see doc.go).
func checkTable(path string, tm bdg.TableManifest, blockSize int, full bool) (err error) {
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("badger: open table %s: %w", path, err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = damagedTable(path, fmt.Sprintf("badger panicked reading it: %v", r))
		}
		// table.OpenTable closes mf itself on some of its errors.
		if mf.Fd.Fd() != ^uintptr(0) {
			if cerr := mf.Close(-1); cerr != nil && err == nil {
				err = fmt.Errorf("badger: close table %s after its verification: %w", path, cerr)
			}
		}
	}()
	mode := options.OnBlockRead // OpenTable reads the last block, and verifies it
	if full {
		mode = options.NoVerification // VerifyChecksum then checks each block itself
	}
	t, err := table.OpenTable(mf, table.Options{
		ReadOnly:    true,
		ChkMode:     mode,
		Compression: tm.Compression,
		BlockSize:   blockSize,
	})
	if err != nil {
		return damagedTable(path, err) // a listed table whose footer, index or last block is damaged
	}
	// Not t.DecrRef: dropping the last reference deletes the file.
	if full {
		if err := t.VerifyChecksum(); err != nil {
			return damagedTable(path, err)
		}
	}
	return nil
}

// damagedTable reports the damaged table in path.
func damagedTable(path string, cause any) error {
	return fmt.Errorf("badger: %w: table %s (in %s) failed its checksum verification: %v (restore the store from a backup or a replica)",
		backend.ErrCorrupt, filepath.Base(path), filepath.Dir(path), cause)
}
