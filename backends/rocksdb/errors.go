package rocksdb

import (
	"fmt"
	"strings"

	"github.com/durablelog/eventstore/backend"
)

// errClosed is what every method returns once the store is closed.
var errClosed = fmt.Errorf("rocksdb: %w", backend.ErrClosed)

// wrap turns an error from RocksDB, whose text starts with the name of its
// status code ("Corruption: ...", "IO error: ..."), into an error of this
// package. It names the operation and the store's directory, wraps
// backend.ErrCorrupt for a Corruption status, and tells the user what to do
// where it can guess.
func wrap(op, dir string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "Corruption:"):
		return fmt.Errorf("rocksdb: %s %s: %w: %w (restore the store from a checkpoint or a backup)", op, dir, backend.ErrCorrupt, err)
	case strings.Contains(msg, "lock file") || strings.Contains(msg, "LOCK"):
		return fmt.Errorf("rocksdb: %s %s: %w (is another process using it?)", op, dir, err)
	case strings.Contains(msg, "No space left on device"):
		return fmt.Errorf("rocksdb: %s %s: %w (is the disk full?)", op, dir, err)
	case strings.Contains(msg, "Permission denied"):
		return fmt.Errorf("rocksdb: %s %s: %w (check the permissions of the directory and its files)", op, dir, err)
	case strings.Contains(msg, "is not linked with the binary"):
		return fmt.Errorf("rocksdb: %s %s: %w (choose another Options.Compression, or a librocksdb built with it)", op, dir, err)
	}
	return fmt.Errorf("rocksdb: %s %s: %w", op, dir, err)
}
