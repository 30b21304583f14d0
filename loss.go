package eventstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore/internal/headmark"
	"github.com/durablelog/eventstore/internal/layout"
)

// The head mark and the generation: how Open notices that the log lost
// events it once held, and how it tells the application (see
// docs/recovery.md, "Lost events and the generation").

// openMark opens the directory's head mark. found is false when there is
// none yet (a new store, or one written by an older release); a damaged mark
// fails Open with ErrCorrupt.
func (s *Store) openMark() (headmark.Mark, bool, error) {
	if s.noMark {
		return headmark.Mark{}, false, nil
	}
	f, m, err := headmark.Open(s.dir)
	switch {
	case errors.Is(err, headmark.ErrNotFound):
		return m, false, nil
	case err != nil:
		return m, false, fmt.Errorf("eventstore: %w", err)
	}
	s.mark = f
	// A STORE file that was lost and rewritten must not take the
	// generation back.
	s.generation = max(s.generation, m.Generation)
	return m, true, nil
}

// checkMark compares the recovered log with the mark of the last session:
// a log that ends below what was durable is corruption in Sync mode and a
// reported loss in NoSync mode; one that ends below what was acknowledged
// but not yet durable (a NoSync session's power cut) is a reported loss.
func (s *Store) checkMark(m headmark.Mark, found bool) error {
	head := s.Head()
	s.recovery.HeadMark = m.Head
	if !found || head >= m.Head {
		return nil
	}
	if head < m.Durable && s.opts.durability == Sync {
		return &CorruptionError{Offset: head + 1, File: filepath.Join(s.dir, headmark.FileName),
			Err: fmt.Errorf("%w: the log ends at offset %d, but offsets up to %d were durable and acknowledged (head mark): the log lost %d events, %d to %d; "+
				"restore from a backup, or open the store once WithDurability(NoSync) to accept the loss and go on from offset %d (see docs/recovery.md, \"log below its head mark\")",
				ErrCorrupt, head, m.Durable, uint64(m.Durable-head), head+1, m.Durable, head+1)}
	}
	return s.lost(uint64(m.Head-head), fmt.Sprintf("the log ends at offset %d, below offset %d that the head mark recorded", head, m.Head))
}

// onHole is called by the log, in NoSync mode, before it cuts itself back
// to the dense prefix below a hole that a power cut left.
func (s *Store) onHole(hole, head Offset) error {
	s.recovery.HoleAt = hole
	return s.lost(uint64(head-hole+1), fmt.Sprintf("offset %d was missing after a crash while records up to %d remained; the log was cut back to offset %d", hole, head, hole-1))
}

// lost records that the log lost n events that were acknowledged or seen:
// their offsets will be given to other events. The first loss of an Open
// moves the store to a new generation, durably, before anything is repaired
// or appended.
func (s *Store) lost(n uint64, why string) error {
	s.recovery.LostEvents = max(s.recovery.LostEvents, n)
	s.logger.Error("eventstore: the log lost events", "lost", n, "why", why)
	if s.recovery.generationBumped {
		return nil
	}
	if s.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.openTimeout)
		defer cancel()
		g, err := s.shared.NewGeneration(ctx)
		if err != nil {
			return fmt.Errorf("eventstore: record the new generation after a loss (%s): %w", why, err)
		}
		s.generation = g
		s.recovery.generationBumped = true
		return nil
	}
	sf := s.sf
	sf.Generation = s.generation + 1
	if err := layout.WriteStore(s.dir, sf); err != nil {
		return fmt.Errorf("eventstore: record the new generation after a loss (%s): %w", why, err)
	}
	s.sf, s.generation = sf, sf.Generation
	s.recovery.generationBumped = true
	return nil
}

// writeOpenMark records the recovered head as durable (the log synced it at
// Open), with the generation, and fsyncs the mark.
func (s *Store) writeOpenMark() error {
	if s.noMark {
		return nil
	}
	head := s.Head()
	m := headmark.Mark{Head: head, Durable: head, Generation: s.generation}
	s.markState = markState{head: head, durable: head, lastWrite: time.Now(), lastSync: time.Now()}
	if s.mark == nil {
		f, err := headmark.Create(s.dir, m)
		if err != nil {
			return fmt.Errorf("eventstore: %w", err)
		}
		s.mark = f
		return nil
	}
	if err := s.mark.WriteSync(m); err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	return nil
}

// How often the head mark is written and made durable while appends go on.
const (
	// markSyncEvery: the mark is fsynced at most this often after commits
	// (Sync mode) and at each periodic sync (NoSync mode), so that after a
	// power cut it lags the log by about this much at most.
	markSyncEvery = time.Second
	// markWriteEvery: in NoSync mode the mark is written, without fsync,
	// at most this often, after a commit.
	markWriteEvery = time.Millisecond
)

// markState is the head mark's bookkeeping; it is used by one goroutine at
// a time, the one that publishes commits.
type markState struct {
	head, durable       Offset // what the mark should record
	lastWrite, lastSync time.Time
}

// onCommitMark records a published commit up to head in the mark. In Sync
// mode the commit is durable: the mark records it as both acknowledged and
// durable. In NoSync mode it records it as acknowledged, durable only up to
// the last periodic sync: if a power cut then loses it, the next Open sees
// the loss if the mark reached the disk. The mark is written without fsync,
// and fsynced about once a second; it can lag the log after a power cut,
// never claim more durable than the log is.
func (s *Store) onCommitMark(head Offset) {
	if s.mark == nil {
		return
	}
	s.markState.head = head
	now := time.Now()
	switch {
	case s.opts.durability == Sync:
		s.markState.durable = head
		s.writeMark(now, now.Sub(s.markState.lastSync) >= markSyncEvery)
	case now.Sub(s.markState.lastWrite) >= markWriteEvery:
		s.writeMark(now, false)
	}
}

// onSync runs on the committing goroutine after a periodic sync (NoSync):
// the log is durable up to durable; the mark records it, with an fsync.
func (s *Store) onSync(durable Offset) {
	if s.mark == nil {
		return
	}
	s.markState.durable = durable
	s.markState.head = max(s.markState.head, durable)
	s.writeMark(time.Now(), true)
}

// writeMark writes the mark, with an fsync when sync is set. A failed write
// stops the store, as a failed commit does.
func (s *Store) writeMark(now time.Time, sync bool) {
	m := headmark.Mark{Head: s.markState.head, Durable: s.markState.durable, Generation: s.generation}
	write := s.mark.Write
	if sync {
		write = s.mark.WriteSync
		s.markState.lastSync = now
	}
	s.markState.lastWrite = now
	if err := write(m); err != nil {
		s.fail(0, fmt.Errorf("%w: %w", ErrFailed, err))
	}
}

// closeMark writes the clean mark after a clean close of the log when clean
// is set, and closes the file.
func (s *Store) closeMarkClean(clean bool) error {
	if s.mark == nil {
		return nil
	}
	var err error
	if clean {
		head := s.Head()
		err = s.mark.WriteSync(headmark.Mark{Head: head, Durable: head, Generation: s.generation, Clean: true})
	}
	if cerr := s.mark.Close(); err == nil {
		err = cerr
	}
	s.mark = nil
	if err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	return nil
}

// closeMark closes the mark file without writing, on a failed Open.
func (s *Store) closeMark() { _ = s.closeMarkClean(false) }

// Generation returns the store's generation: 1 for a new store, increased by
// one each time Open finds that the log lost events it once held (see
// RecoveryReport.LostEvents). Offsets are never reused within a generation,
// so an application that remembers a position in the log, such as a
// projection's checkpoint, stores (Generation, Offset) and rebuilds when the
// generation changed.
//
// For a log that several processes share (PostgreSQL), the generation is the
// log's, as this process last read it.
func (s *Store) Generation() uint64 {
	if s.shared != nil {
		return s.shared.Generation()
	}
	return s.generation
}
