package kvlog

import (
	"fmt"
	"time"

	"github.com/durablelog/eventstore/logstore"
)

// flightDepth bounds the groups written but not yet durable: the committer
// waits when the syncer is that far behind.
const flightDepth = 64

// flight is a group that the committer wrote into the engine without sync,
// on its way to the syncer.
type flight struct {
	head    logstore.Offset   // the head after the group
	records []logstore.Record // the group's records, in offset order
	waiting []*pending        // complete when the group is published
	barrier chan struct{}     // closed when the flight is through, if not nil
	// For the observer: the appends the group wrote, their data and
	// metadata bytes, and when its write began.
	appends int
	bytes   int64
	start   time.Time
}

// sync is the syncer goroutine of Sync mode: the second stage of the
// pipelined group commit. The committer writes each group into the engine
// without sync and goes on sequencing and writing the next; the syncer takes
// every group written so far, makes them durable with one engine Sync (which
// covers every batch committed before it), and publishes them in order.
// Readers never see a group before it is published, so they never see data
// that is not durable. A failed write or sync stops the log: every group not
// yet published fails, later ones too, and a reopen finds what is durable.
func (l *Log) sync() {
	defer close(l.syncerDone)
	for f := range l.flights {
		fs := []*flight{f}
	more:
		for {
			select {
			case f, ok := <-l.flights:
				if !ok {
					break more
				}
				fs = append(fs, f)
			default:
				break more
			}
		}
		l.syncFlights(fs)
	}
}

func (l *Log) syncFlights(fs []*flight) {
	err := l.Failed()
	if err == nil && wrote(fs) {
		if err = l.kv.Sync(); err != nil {
			err = fmt.Errorf("sync: %w", err)
			l.fail(err)
		}
	}
	for _, f := range fs {
		if err != nil {
			l.failAll(f.waiting, fmt.Errorf("%w: commit failed: %w", logstore.ErrFailed, err))
		} else {
			l.publish(f)
		}
		if f.barrier != nil {
			close(f.barrier)
		}
	}
}

// wrote reports whether one of fs wrote something.
func wrote(fs []*flight) bool {
	for _, f := range fs {
		if len(f.records) > 0 {
			return true
		}
	}
	return false
}

// drainFlights waits, on the committer goroutine, until every group written
// so far is published (or failed).
func (l *Log) drainFlights() {
	if l.flights == nil {
		return
	}
	b := make(chan struct{})
	l.flights <- &flight{head: l.written, barrier: b}
	<-b
}
