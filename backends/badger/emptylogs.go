package badger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/durablelog/eventstore/internal/fsutil"
)

// removeEmptyLogs deletes zero-length memtable WAL (*.mem) and value-log
// (*.vlog) files before badger opens dir. Badger creates such a file with
// open(O_CREATE) and only then sizes it; a crash between the two leaves an
// empty file, which holds no data but makes the next badger.Open fail
// ("while opening memtables ... Create a new file"). The removal is made
// durable with a directory fsync.
func removeEmptyLogs(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("badger: list %s: %w", dir, err)
	}
	removed := false
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, ".mem") || strings.HasSuffix(name, ".vlog")) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return fmt.Errorf("badger: stat %s: %w", filepath.Join(dir, name), err)
		}
		if fi.Size() != 0 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("badger: remove the empty file %s that a crash left: %w", filepath.Join(dir, name), err)
		}
		removed = true
	}
	if removed {
		if err := fsutil.SyncDir(dir); err != nil {
			return fmt.Errorf("badger: %w", err)
		}
	}
	return nil
}
