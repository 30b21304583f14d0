package eventstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/durablelog/eventstore/internal/headmark"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/logstore"
)

// Store is an open event store. All methods are safe for concurrent use.
type Store struct {
	dir     string
	backend string
	opts    options
	logger  *slog.Logger
	log     logstore.Log
	lock    *os.File

	closeMu sync.Mutex
	closed  atomic.Bool
	done    chan struct{} // closed by Close: subscriptions end

	notifyMu sync.Mutex
	notifyCh chan struct{} // closed and replaced at every commit

	failed atomic.Pointer[failure]

	sm       *stateMachine // nil without a state machine
	recovery RecoveryReport

	// The store's generation and the STORE file that records it.
	sf         layout.Store
	generation uint64
	// mark is the head mark (see internal/headmark); it is written on the
	// committing goroutine, and at Open and Close. noMark turns it off, for
	// the benchmark that measures its cost (internal/benchknobs).
	mark      *headmark.File
	markState markState
	noMark    bool

	// checkpointer is the log's checkpoint capability, nil when it has
	// none; shared is set for a log that other processes share (found
	// once, at Open).
	checkpointer logstore.Checkpointer
	shared       logstore.Shared

	// metrics holds the live metrics (Metrics); nil when the benchmark
	// that measures their cost turned them off (internal/benchknobs).
	metrics *storeMetrics
}

// failure records why the store stopped.
type failure struct {
	offset Offset // the first offset concerned, 0 if none
	err    error
}

// onCommit runs on the committing goroutine after each durable commit.
func (s *Store) onCommit(recs []logstore.Record) {
	if len(recs) > 0 {
		s.onCommitMark(recs[len(recs)-1].Offset)
	}
	if s.sm != nil {
		s.sm.applyCommitted(recs)
	}
	s.notifyMu.Lock()
	close(s.notifyCh)
	s.notifyCh = make(chan struct{})
	s.notifyMu.Unlock()
}

// changed returns a channel that is closed at the next commit.
func (s *Store) changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notifyCh
}

// fail stops the store: appends fail from now on.
func (s *Store) fail(off Offset, err error) {
	s.failed.CompareAndSwap(nil, &failure{offset: off, err: err})
}

func (s *Store) failure() *failure { return s.failed.Load() }

// Head returns the offset of the last committed event, 0 for an empty log.
func (s *Store) Head() Offset { return Offset(s.log.Head()) }

// Dir returns the store's directory, as an absolute path (Open resolves a
// relative one against the working directory of the time).
func (s *Store) Dir() string { return s.dir }

// Backend returns the name of the store's engine.
func (s *Store) Backend() string { return s.backend }

// LastRecovery returns what Open found and did.
func (s *Store) LastRecovery() RecoveryReport { return s.recovery.clone() }

// Close closes the store: it fails appends that have not joined a commit
// with ErrClosed, waits for the commit in flight, ends subscriptions and
// iterators (with ErrClosed), takes the final snapshot when the policy asks
// for one, closes the engine and releases the directory. Close is
// idempotent: later calls return nil.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Load() {
		return nil
	}
	s.closed.Store(true)
	close(s.done)
	var errs []error
	logErr := s.log.Close()
	if logErr != nil && !errors.Is(logErr, ErrClosed) {
		errs = append(errs, fmt.Errorf("eventstore: close %s: %w", s.dir, logErr))
	}
	if err := s.closeMarkClean(logErr == nil && s.failure() == nil); err != nil {
		errs = append(errs, err)
	}
	if s.sm != nil {
		if err := s.sm.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := unlockFile(s.lock); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return fmt.Errorf("%w: %s", ErrClosed, s.dir)
	}
	return nil
}
