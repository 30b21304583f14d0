package eventstore

import (
	"log/slog"
	"slices"
	"time"
)

// RecoveryReport tells what Open found and did.
type RecoveryReport struct {
	// Backend is the engine's name.
	Backend string
	// Head is the offset of the last event in the log at Open.
	Head Offset
	// SnapshotOffset is the offset of the snapshot restored, 0 when none
	// was (no state machine, no snapshot, or none valid).
	SnapshotOffset Offset
	// SnapshotFile is the path of the snapshot restored, if any.
	SnapshotFile string
	// Skipped lists the snapshots passed over, newest first, and why.
	Skipped []SkippedSnapshot
	// EventsReplayed and BytesReplayed count what was applied to the state
	// machine after the snapshot.
	EventsReplayed, BytesReplayed uint64
	// LostEvents is set when a snapshot covered offsets beyond the head:
	// the log lost the events from Head+1 to that snapshot's offset. In
	// Sync mode Open fails instead, with ErrCorrupt.
	LostEvents uint64
	// Duration is the time Open took.
	Duration time.Duration
}

// SkippedSnapshot is a snapshot that recovery did not use.
type SkippedSnapshot struct {
	File   string
	Offset Offset
	Reason string
}

func (r RecoveryReport) clone() RecoveryReport {
	r.Skipped = slices.Clone(r.Skipped)
	return r
}

func (r *RecoveryReport) log(l *slog.Logger) {
	attrs := []any{
		"backend", r.Backend, "head", uint64(r.Head), "snapshot", uint64(r.SnapshotOffset),
		"replayed_events", r.EventsReplayed, "replayed_bytes", r.BytesReplayed, "duration", r.Duration,
	}
	for _, s := range r.Skipped {
		l.Warn("eventstore: snapshot skipped", "file", s.File, "offset", uint64(s.Offset), "reason", s.Reason)
	}
	if r.LostEvents > 0 {
		l.Error("eventstore: the log lost events that a snapshot had seen", "head", uint64(r.Head), "lost", r.LostEvents)
	}
	l.Info("eventstore: recovered", attrs...)
}
