package sqlite

import (
	"errors"
	"fmt"

	"github.com/durablelog/eventstore/backend"
)

// SQLite's primary result codes that this package tells apart
// (https://www.sqlite.org/rescode.html). An extended code keeps its primary
// code in the low 8 bits.
const (
	codeError   = 1  // SQLITE_ERROR: a generic error, such as a ROLLBACK outside a transaction
	codeCorrupt = 11 // SQLITE_CORRUPT: the database disk image is malformed
	codeNotADB  = 26 // SQLITE_NOTADB: the file is not a database
)

// isCorruption reports whether err carries SQLITE_CORRUPT or SQLITE_NOTADB,
// or one of their extended codes (SQLITE_CORRUPT_INDEX, ...).
func isCorruption(err error) bool {
	code, ok := resultCode(err)
	if !ok {
		return false
	}
	switch code & 0xff {
	case codeCorrupt, codeNotADB:
		return true
	}
	return false
}

// errClosed returns the error of a method called after Close.
func errClosed(op string) error {
	return fmt.Errorf("sqlite: %s: %w", op, backend.ErrClosed)
}

// errBatchDone is returned by Commit on a batch already committed or closed.
var errBatchDone = errors.New("sqlite: Commit of a batch that was already committed or closed; create a new batch with NewBatch")

// errIterClosed is the error of a second Close of an iterator.
var errIterClosed = errors.New("sqlite: Close of an iterator that was already closed")

// wrap annotates an error from SQLite with the operation and the database
// file. A corruption error wraps backend.ErrCorrupt as well.
func wrap(op, file string, err error) error {
	if isCorruption(err) {
		return corruptError(op, file, err)
	}
	return fmt.Errorf("sqlite: %s in %s: %w", op, file, err)
}

// corruptError returns the error for damage found during op in the database
// file. It wraps backend.ErrCorrupt and cause, which may be nil.
func corruptError(op, file string, cause error) error {
	errs := []error{backend.ErrCorrupt}
	detail := ""
	if cause != nil {
		errs = append(errs, cause)
		detail = ": " + cause.Error()
	}
	return &multiError{
		msg: fmt.Sprintf("sqlite: %s: database file %s is damaged: %v%s; restore the store from a backup or a checkpoint",
			op, file, backend.ErrCorrupt, detail),
		errs: errs,
	}
}

// multiError is an error with its own message that wraps several errors.
type multiError struct {
	msg  string
	errs []error
}

func (e *multiError) Error() string   { return e.msg }
func (e *multiError) Unwrap() []error { return e.errs }

// failureError is what every write returns once a commit or a sync failed:
// the outcome of the failed call is unknown, and after a failed fsync even a
// later successful one would not prove that earlier writes reached the disk.
type failureError struct{ err error }

func (e *failureError) Error() string {
	return fmt.Sprintf("sqlite: the store failed and accepts no more writes (%v); batches whose Commit failed may or may not be applied: close the store and reopen the directory, preferably in a new process, to recover from the write-ahead log", e.err)
}

func (e *failureError) Unwrap() error { return e.err }

// busyError reports a checkpoint that readers kept from finishing: their
// views still need frames of the write-ahead log.
type busyError struct{ pending, total int }

func (e *busyError) Error() string {
	return fmt.Sprintf("the checkpoint could not finish within the busy timeout: open iterators still use %d of the %d pages of the write-ahead log; close them and retry", e.pending, e.total)
}
