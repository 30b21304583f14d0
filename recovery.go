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
	// LostEvents is set when the log lost events that it once held: a
	// snapshot, or the head mark, had seen offsets beyond the head, or Open
	// cut the log back at a hole that a power cut left (HoleAt). The
	// offsets from Head+1 to Head+LostEvents will be given to new, other
	// events, so the store moved to a new Generation. Events that were
	// durable are never lost this way in Sync mode: Open fails with
	// ErrCorrupt instead. The loss of events acknowledged in NoSync mode
	// that had not reached the disk is reported here, in either mode.
	LostEvents uint64
	// HoleAt is the first missing offset of a hole that Open found in the
	// part of the log that was not yet durable (NoSync mode, after a power
	// cut) and cut the log back to HoleAt-1; 0 when there was none.
	HoleAt Offset
	// HeadMark is the head that the head mark of the last session
	// recorded (0 when there was none): the log was expected to reach at
	// least there.
	HeadMark Offset
	// LostSnapshots lists the snapshots, past the head, that Open moved
	// aside as *.lost: they saw events that the log lost, and are never
	// restored.
	LostSnapshots []string
	// Generation is the store's generation after Open (Store.Generation).
	Generation uint64
	// Duration is the time Open took.
	Duration time.Duration

	generationBumped bool // Open moved the store to a new generation
}

// SkippedSnapshot is a snapshot that recovery did not use.
type SkippedSnapshot struct {
	File   string
	Offset Offset
	Reason string
}

func (r RecoveryReport) clone() RecoveryReport {
	r.Skipped = slices.Clone(r.Skipped)
	r.LostSnapshots = slices.Clone(r.LostSnapshots)
	return r
}

func (r *RecoveryReport) log(l *slog.Logger) {
	attrs := []any{
		"backend", r.Backend, "generation", r.Generation, "head", uint64(r.Head), "snapshot", uint64(r.SnapshotOffset),
		"replayed_events", r.EventsReplayed, "replayed_bytes", r.BytesReplayed, "duration", r.Duration,
	}
	for _, s := range r.Skipped {
		l.Warn("eventstore: snapshot skipped", "file", s.File, "offset", uint64(s.Offset), "reason", s.Reason)
	}
	if r.LostEvents > 0 {
		l.Error("eventstore: the log lost events it once held; the store moved to a new generation",
			"head", uint64(r.Head), "lost", r.LostEvents, "hole_at", uint64(r.HoleAt), "head_mark", uint64(r.HeadMark),
			"lost_snapshots", r.LostSnapshots, "generation", r.Generation)
	}
	l.Info("eventstore: recovered", attrs...)
}
