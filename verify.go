package eventstore

import (
	"context"

	"github.com/durablelog/eventstore/logstore"
)

// VerifyReport summarises a Verify scan: the last offset checked (Head),
// the records, distinct streams, stream-index entries and ids checked, the
// bytes of records read and how long the scan took.
type VerifyReport = logstore.VerifyReport

// Verify scans the whole store: every record's checksum and framing, dense
// offsets from 1 to the head, dense versions in every stream, and the stream
// and id indexes against the log. It returns the report and, on the first
// problem, an error wrapping ErrCorrupt that names its location (errors.As
// finds a *CorruptionError). Appends may run while it scans; it checks the
// log up to the head at its start.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	return s.VerifyProgress(ctx, nil)
}

// VerifyProgress is Verify with a progress callback, called now and then with
// the offset reached, for progress bars.
func (s *Store) VerifyProgress(ctx context.Context, progress func(Offset)) (VerifyReport, error) {
	if err := s.checkOpen(); err != nil {
		return VerifyReport{}, err
	}
	return s.log.Verify(ctx, progress)
}
