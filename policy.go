package eventstore

import (
	"fmt"
	"strings"
	"time"
)

// SnapshotPolicy decides when the store snapshots its state machine. The
// store asks after each commit it applies, and once at Close. Policies
// compose with AnyOf. Implementations must be safe for concurrent use and
// fast: they run in line with the apply order.
type SnapshotPolicy interface {
	// ShouldSnapshot reports whether to take a snapshot now.
	ShouldSnapshot(SnapshotStats) bool
}

// SnapshotStats is what a SnapshotPolicy decides on.
type SnapshotStats struct {
	// Head is the last applied offset.
	Head Offset
	// LastSnapshot is the offset of the last snapshot taken or restored,
	// 0 when none.
	LastSnapshot Offset
	// EventsSince and BytesSince count the events, and their data bytes,
	// applied since LastSnapshot.
	EventsSince, BytesSince uint64
	// ApplyTimeSince is the time spent in Apply since LastSnapshot.
	ApplyTimeSince time.Duration
	// EstimatedReplay estimates how long a restart would spend replaying
	// the events since LastSnapshot: the measured apply time plus the
	// measured cost of reading and decoding that many events and bytes.
	EstimatedReplay time.Duration
	// Closing is set when the store is closing.
	Closing bool
}

// DefaultSnapshotEvery is the N of the default policy EveryN(N) with a state
// machine.
const DefaultSnapshotEvery = 1000

// DefaultSnapshotRetention is how many valid snapshots the store keeps.
const DefaultSnapshotRetention = 3

type everyN uint64

// EveryN snapshots once n events have been applied since the last snapshot.
// EveryN(0) never does.
func EveryN(n uint64) SnapshotPolicy { return everyN(n) }

func (p everyN) ShouldSnapshot(s SnapshotStats) bool { return p > 0 && s.EventsSince >= uint64(p) }
func (p everyN) String() string                      { return fmt.Sprintf("EveryN(%d)", uint64(p)) }

type adaptive time.Duration

// Adaptive snapshots when the estimated cost of replaying the events since
// the last snapshot exceeds budget (see SnapshotStats.EstimatedReplay), so
// that a restart stays within about budget whatever the events cost to apply.
func Adaptive(budget time.Duration) SnapshotPolicy { return adaptive(budget) }

func (p adaptive) ShouldSnapshot(s SnapshotStats) bool {
	return p > 0 && s.EventsSince > 0 && s.EstimatedReplay >= time.Duration(p)
}
func (p adaptive) String() string { return fmt.Sprintf("Adaptive(%v)", time.Duration(p)) }

type onClose struct{}

// OnClose snapshots when the store closes, if events were applied since the
// last snapshot.
func OnClose() SnapshotPolicy { return onClose{} }

func (onClose) ShouldSnapshot(s SnapshotStats) bool { return s.Closing && s.EventsSince > 0 }
func (onClose) String() string                      { return "OnClose()" }

type never struct{}

// Never takes no snapshot by itself; only Store.Snapshot takes one.
func Never() SnapshotPolicy { return never{} }

func (never) ShouldSnapshot(SnapshotStats) bool { return false }
func (never) String() string                    { return "Never()" }

type anyOf []SnapshotPolicy

// AnyOf snapshots when any of ps says so, for example
// AnyOf(EveryN(10000), Adaptive(100*time.Millisecond), OnClose()).
func AnyOf(ps ...SnapshotPolicy) SnapshotPolicy { return anyOf(ps) }

func (ps anyOf) ShouldSnapshot(s SnapshotStats) bool {
	for _, p := range ps {
		if p != nil && p.ShouldSnapshot(s) {
			return true
		}
	}
	return false
}

func (ps anyOf) String() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprint(p)
	}
	return "AnyOf(" + strings.Join(parts, ", ") + ")"
}
