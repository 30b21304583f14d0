package logstore

import (
	"errors"
	"fmt"
)

// ErrConflict is wrapped by *ConflictError.
var ErrConflict = errors.New("wrong expected version")

// ErrDuplicateID is wrapped when an event id is already used in its stream
// and the append is not a retry of the append that used it.
var ErrDuplicateID = errors.New("event id already used in the stream")

// ErrFailed is wrapped by every Append after a commit failed: the log no
// longer knows what is durable and refuses appends until it is reopened.
var ErrFailed = errors.New("log failed and refuses appends until it is reopened")

// ErrWrongOffset is wrapped when a request's first event would not land at
// the offset its At field names. Nothing was written.
var ErrWrongOffset = errors.New("the request would not land at the offset it names")

// ErrBatchTooLarge is wrapped when one append is larger than the storage can
// commit atomically.
var ErrBatchTooLarge = errors.New("append too large to commit atomically")

// ConflictError reports an expected-version mismatch.
type ConflictError struct {
	Stream   string
	Expected int64
	Actual   uint64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("wrong expected version for stream %q: expected %s, stream is at %d",
		e.Stream, DescribeExpected(e.Expected), e.Actual)
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// DescribeExpected renders an expected version for messages.
func DescribeExpected(v int64) string {
	switch v {
	case ExpectAny:
		return "any"
	case ExpectExists:
		return "an existing stream"
	case ExpectEmpty:
		return "no stream (0)"
	}
	return fmt.Sprint(v)
}

// CorruptError reports data that failed a checksum or a structural check. It
// wraps backend.ErrCorrupt (eventstore.ErrCorrupt) and the underlying error.
type CorruptError struct {
	// Where names the location: "log offset 42", "stream \"a\" version 3",
	// or a file.
	Where string
	// Offset is the log offset concerned, 0 when unknown or not a record.
	Offset uint64
	// Err is the underlying error; it wraps backend.ErrCorrupt.
	Err error
}

func (e *CorruptError) Error() string { return fmt.Sprintf("%s: %v", e.Where, e.Err) }

// Unwrap returns the underlying error, which wraps backend.ErrCorrupt.
func (e *CorruptError) Unwrap() error { return e.Err }
