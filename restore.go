package eventstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/snapfile"
)

// recover restores the newest valid snapshot and replays the log after it.
//
// It holds mu throughout: a log that other processes append to (PostgreSQL)
// publishes their appends while Open recovers, and applyCommitted must
// neither apply them before the state is restored nor apply what the replay
// applies. It applies nothing until recovery has ended (recovered), and then
// only what the replay did not reach.
func (m *stateMachine) recover(rep *RecoveryReport) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	head := m.s.Head()
	if err := snapfile.RemoveTemp(m.dir); err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	list, err := snapfile.List(m.dir)
	if err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	var used Offset
	restoreFailed := false
	for _, info := range list {
		off, reason, outcome, err := m.tryRestore(info, head, rep)
		if err != nil {
			return err
		}
		if reason == "" {
			used = off
			rep.SnapshotOffset, rep.SnapshotFile = off, info.Path
			break
		}
		rep.Skipped = append(rep.Skipped, SkippedSnapshot{File: info.Path, Offset: Offset(info.Offset), Reason: reason})
		if outcome == restoreFailedOutcome {
			restoreFailed = true
		}
		switch outcome {
		case brokenOutcome:
			if err := os.Rename(info.Path, info.Path+".broken"); err != nil {
				m.s.logger.Warn("eventstore: cannot set a damaged snapshot aside", "file", info.Path, "err", err)
			}
		case lostOutcome:
			lost, err := setAsideLost(info.Path)
			if err != nil {
				return err
			}
			rep.LostSnapshots = append(rep.LostSnapshots, lost)
		}
	}
	if used == 0 && restoreFailed {
		return fmt.Errorf("%w: no snapshot could be restored and a failed Restore may have left a partial state; fix Restore, or move the snapshots out of %s to replay the whole log", ErrStateMachine, m.dir)
	}
	m.last = used
	m.status.Last = used
	m.durable = used
	if err := m.replay(used, rep); err != nil {
		return err
	}
	m.recovered = true
	return nil
}

// Why a snapshot was skipped, as far as recovery cares.
type skipOutcome int

const (
	skippedOutcome       skipOutcome = iota // not usable, left in place
	brokenOutcome                           // damaged: set aside as *.broken
	restoreFailedOutcome                    // Restore failed: the state may be partial
	lostOutcome                             // past the head: set aside as *.lost, never restored
)

// tryRestore checks one snapshot and restores it. A non-empty reason means
// it was skipped, and the outcome says how.
func (m *stateMachine) tryRestore(info snapfile.Info, head Offset, rep *RecoveryReport) (Offset, string, skipOutcome, error) {
	h, err := snapfile.Check(info.Path)
	if err != nil {
		return 0, fmt.Sprintf("damaged: %v", err), brokenOutcome, nil
	}
	if h.Offset != info.Offset {
		return 0, fmt.Sprintf("damaged: the header says offset %d, the name %d", h.Offset, info.Offset), brokenOutcome, nil
	}
	if h.Fingerprint != m.fingerprint {
		return 0, fmt.Sprintf("fingerprint %q differs from the state machine's %q", h.Fingerprint, m.fingerprint), skippedOutcome, nil
	}
	if Offset(h.Offset) > head {
		lost := h.Offset - uint64(head)
		if m.s.opts.durability == Sync {
			return 0, "", skippedOutcome, fmt.Errorf("%w: snapshot %s covers offset %d but the log ends at %d: the log lost %d acknowledged events; "+
				"restore from a backup, or open the store once WithDurability(NoSync) to accept the loss (see docs/recovery.md, \"snapshot past the head\")",
				ErrCorrupt, info.Path, h.Offset, head, lost)
		}
		if err := m.s.lost(lost, fmt.Sprintf("snapshot %s covers offset %d, past the head %d", info.Path, h.Offset, head)); err != nil {
			return 0, "", skippedOutcome, err
		}
		return 0, fmt.Sprintf("covers offset %d, past the log's head %d: %d events were lost; moved aside for good", h.Offset, head, lost), lostOutcome, nil
	}
	r, err := snapfile.Open(info.Path)
	if err != nil {
		return 0, fmt.Sprintf("damaged: %v", err), brokenOutcome, nil
	}
	defer r.Close()
	if err := m.sm.Restore(r); err != nil {
		return 0, fmt.Sprintf("restore failed: %v", err), restoreFailedOutcome, nil
	}
	return Offset(h.Offset), "", skippedOutcome, nil
}

// replay applies the log after offset from to the state machine.
func (m *stateMachine) replay(from Offset, rep *RecoveryReport) error {
	start := time.Now()
	m.applied = from
	for r, err := range m.s.logRecords(context.Background(), from+1, 0) {
		if err != nil {
			return fmt.Errorf("eventstore: replay the log after offset %d: %w", from, err)
		}
		if err := m.apply(r); err != nil {
			return fmt.Errorf("%w: Apply of offset %d (stream %q version %d) during recovery returned: %w",
				ErrStateMachine, r.Offset, r.Stream, r.Version, err)
		}
		rep.EventsReplayed++
		rep.BytesReplayed += uint64(len(r.Data))
	}
	if rep.EventsReplayed >= 1000 {
		if read := time.Since(start) - m.applyTimeSince; read > 0 {
			m.readPerEvent = read / time.Duration(rep.EventsReplayed)
		}
	}
	return nil
}

// lostSuffix marks a snapshot set aside because it covers offsets that the
// log lost: its state includes events that are gone, so it must never be
// restored, also once the log has grown past its offset again.
const lostSuffix = ".lost"

// setAsideLost renames a snapshot to *.lost, durably: until the rename is on
// disk, a later Open could restore it.
func setAsideLost(path string) (string, error) {
	lost := path + lostSuffix
	if err := os.Rename(path, lost); err != nil {
		return "", fmt.Errorf("eventstore: set aside snapshot %s, which covers events the log lost: %w; move it out of the snapshots directory by hand", path, err)
	}
	if err := fsutil.SyncDir(filepath.Dir(path)); err != nil {
		return "", fmt.Errorf("eventstore: set aside snapshot %s: %w", path, err)
	}
	return lost, nil
}
