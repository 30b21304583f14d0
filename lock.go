package eventstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/durablelog/eventstore/internal/layout"
)

// lockFile takes the directory's owner lock: an exclusive flock on dir/LOCK.
// flock conflicts between two open files also within one process, so a second
// Store on the same directory fails in this process as in another.
func lockFile(dir string) (*os.File, error) {
	path := filepath.Join(dir, layout.LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("eventstore: open the lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked by another Store, in this process or another; close it first", ErrLocked, dir)
		}
		return nil, fmt.Errorf("eventstore: lock %s: %w", path, err)
	}
	return f, nil
}

func unlockFile(f *os.File) error {
	// Closing the file releases the flock.
	if err := f.Close(); err != nil {
		return fmt.Errorf("eventstore: release the directory lock: %w", err)
	}
	return nil
}
