package badger

import (
	"errors"
	"fmt"
	"strings"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/y"
	"github.com/durablelog/eventstore/backend"
)

// corruptionMarkers are the texts of the errors badger returns for damaged
// data. Badger wraps errors with y.Wrap, which formats them with %+v instead
// of %w (badger y/error.go, Wrap), so errors.Is cannot see y.ErrChecksumMismatch
// through most of its call paths and the text is all that is left.
var corruptionMarkers = []string{
	"checksum mismatch",             // y.ErrChecksumMismatch: table blocks, table index, value log (y/checksum.go:18, value.go:984), MANIFEST (manifest.go:345)
	"corrupt",                       // "Data corrupted", "value corrupted", "Manifest file might be corrupted"
	"failed to decompress",          // a damaged compressed block (table/table.go:810-823)
	"invalid checksum length",       // a damaged block trailer (table/table.go:581)
	"manifest has bad magic",        // a damaged MANIFEST header (manifest.go:344)
	"file does not exist for table", // the MANIFEST lists a table that is gone (levels.go:50)
	"invalid read",                  // a value pointer past the end of its value-log file (value.go:998)
	"invalid value pointer offset",  // the same, in the active value-log file (value.go:954)
	"errEOF: end of file",           // the same, detected by the mmap read (memtable.go:378-396)
}

// errUnreadableValue reports a value that badger failed to read from the
// value log. Item.Value and Item.ValueCopy do not return that error: badger
// logs it and yields an empty value (iterator.go:139-188, "Don't return error
// if we cannot read the value"), whether the cause is a checksum mismatch
// (value.go:976-985) or a value pointer past the end of a truncated file. A
// value stored in the value log is never empty (it is at least
// ValueThreshold >= 16 bytes long, which is why Options enforces that
// minimum), and for such an item Item.ValueSize estimates at least 15 bytes
// from the value pointer (iterator.go:238-252). So an empty value whose
// ValueSize is positive is this failure.
var errUnreadableValue = errors.New("the value could not be read from the value log (damaged or missing value-log entry; badger logged the cause)")

// readValue copies item's value into dst, reporting badger's swallowed
// value-log read errors as errUnreadableValue.
func readValue(item *bdg.Item, dst []byte) ([]byte, error) {
	v, err := item.ValueCopy(dst)
	if err == nil && len(v) == 0 && item.ValueSize() > 0 {
		err = errUnreadableValue
	}
	return v, err
}

// isCorruption reports whether err is badger's report of damaged data.
func isCorruption(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, y.ErrChecksumMismatch) || errors.Is(err, y.ErrEOF) || errors.Is(err, errUnreadableValue) || errors.Is(err, backend.ErrCorrupt) {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, m := range corruptionMarkers {
		if strings.Contains(msg, strings.ToLower(m)) {
			return true
		}
	}
	return false
}

// wrapErr turns an error from badger into this package's error for the store
// in dir: prefixed "badger: ", describing what failed, and wrapping
// backend.ErrCorrupt (with the directory and advice) when badger reported
// damaged data.
func wrapErr(dir, what string, err error) error {
	if err == nil {
		return nil
	}
	if isCorruption(err) && !errors.Is(err, backend.ErrCorrupt) {
		return fmt.Errorf("badger: %s in %s: %w: %w (restore the store from a backup or a replica)", what, dir, backend.ErrCorrupt, err)
	}
	return fmt.Errorf("badger: %s in %s: %w", what, dir, err)
}

// readPanic turns a panic that badger raised while reading, recovered at
// this package's boundary, into an error wrapping backend.ErrCorrupt. Badger
// parses a table block's trailer before it verifies the block's checksum
// (table/table.go:560-600), so a damaged block can make it slice out of
// range instead of returning an error.
func readPanic(dir, what string, r any) error {
	return fmt.Errorf("badger: %s in %s: %w: badger panicked reading a table: %v (a damaged table block; restore the store from a backup or a replica)",
		what, dir, backend.ErrCorrupt, r)
}

func errClosed(what string) error {
	return fmt.Errorf("badger: %s: %w", what, backend.ErrClosed)
}
