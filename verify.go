package eventstore

import (
	"context"
	"time"
)

// VerifyReport summarises a Verify scan.
type VerifyReport struct {
	Head         Offset        // the last offset checked
	Records      uint64        // records checked, checksums included
	Streams      uint64        // distinct streams
	IndexEntries uint64        // stream-index entries checked against the log
	IDs          uint64        // event ids checked against the id index
	Bytes        uint64        // bytes of records read
	Duration     time.Duration // how long the scan took
}

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
	var p func(uint64)
	if progress != nil {
		p = func(o uint64) { progress(Offset(o)) }
	}
	r, err := s.log.Verify(ctx, p)
	return VerifyReport{
		Head: Offset(r.Head), Records: r.Records, Streams: r.Streams,
		IndexEntries: r.IndexEntries, IDs: r.IDs, Bytes: r.Bytes, Duration: r.Duration,
	}, err
}
