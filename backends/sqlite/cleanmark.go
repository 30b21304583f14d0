package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/durablelog/eventstore/internal/fsutil"
)

// CleanMarkName is the file that a clean Close leaves in the engine's
// directory, after the write-ahead log has been checkpointed into the
// database file and both are synced. Open removes it, durably, before it
// writes anything; with Options.OpenCheck CheckAfterCrash (the default),
// Open runs PRAGMA quick_check only when the file is missing.
const CleanMarkName = "CLEAN"

// putCleanMark writes the clean-Close marker in dir, durably. The marker is
// an empty file whose existence is the whole message, so it is created in
// place rather than renamed into place: a crash part-way leaves either no
// file or an empty one, and either is true, because the database was
// checkpointed and synced before this runs.
func putCleanMark(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, CleanMarkName), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write the clean-close marker: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // the Sync error is the one to report
		return fmt.Errorf("write the clean-close marker: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the clean-close marker: %w", err)
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return fmt.Errorf("write the clean-close marker: %w", err)
	}
	return nil
}

// takeCleanMark reports whether dir holds the clean-Close marker, and
// removes it durably, so that a crash from now on is never taken for a
// clean Close.
func takeCleanMark(dir string) (bool, error) {
	err := os.Remove(filepath.Join(dir, CleanMarkName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("remove the clean-close marker: %w", err)
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return false, fmt.Errorf("remove the clean-close marker: %w", err)
	}
	return true, nil
}
