package eventstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/benchknobs"
	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/headmark"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/logstore"
	"github.com/durablelog/eventstore/logstore/kvlog"
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
	mark   *headmark.File
	noMark bool

	// checkpointer is the log's checkpoint capability, nil when it has
	// none (found once, at Open).
	checkpointer logstore.Checkpointer
}

// failure records why the store stopped.
type failure struct {
	offset Offset // the first offset concerned, 0 if none
	err    error
}

// Open opens the store in dir, creating dir and the store when missing, and
// recovers before it returns: it finds the head of the log and, with a state
// machine, restores the newest valid snapshot and replays the events after
// it. See LastRecovery for what it found.
//
// Only one Store may own a directory at a time; a second Open, from this
// process or another, fails with ErrLocked.
func Open(dir string, opts ...Option) (*Store, error) {
	start := time.Now()
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("eventstore: %s is a regular file, not a directory: give Open a directory", dir)
	}
	if o.mustExist {
		ok, err := layout.IsStore(dir)
		if err != nil {
			return nil, fmt.Errorf("eventstore: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s holds no store (no %s file): check the path, or open without WithExistingStore to create one", ErrNoStore, dir, layout.StoreFile)
		}
	}
	if err := fsutil.MkdirAllSync(dir, 0o755); err != nil {
		return nil, fmt.Errorf("eventstore: create %s: %w", dir, err)
	}
	lock, err := lockFile(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: o, logger: logger, lock: lock, done: make(chan struct{}), notifyCh: make(chan struct{}),
		noMark: benchknobs.NoHeadMark.Load()}
	if err := s.open(); err != nil {
		_ = unlockFile(lock)
		return nil, err
	}
	s.recovery.Duration = time.Since(start)
	s.recovery.log(logger)
	return s, nil
}

func (s *Store) open() error {
	engine, err := s.resolveBackend()
	if err != nil {
		return err
	}
	engineDir := layout.Engine(s.dir)
	if err := fsutil.MkdirAllSync(engineDir, 0o755); err != nil {
		return fmt.Errorf("eventstore: create %s: %w", engineDir, err)
	}
	kv, err := engine.Open(engineDir, backend.Options{Logger: s.logger.With("engine", s.backend), Config: s.opts.backendConfig})
	if err != nil {
		return fmt.Errorf("eventstore: open the %s engine in %s: %w", s.backend, engineDir, err)
	}
	if s.opts.stateMachine != nil {
		s.sm = newStateMachine(s, s.opts.stateMachine)
	}
	mark, found, err := s.openMark()
	if err != nil {
		_ = kv.Close()
		return err
	}
	cfg := logstore.Config{
		Sync:           s.opts.durability == Sync,
		OnCommit:       s.onCommit,
		OnSync:         s.onSync,
		MaxBatchEvents: s.opts.maxBatchEvents,
		MaxBatchBytes:  s.opts.maxBatchBytes,
	}
	if found && !mark.Clean {
		// The last session did not close: the part of the log that was
		// not known durable may hold a hole.
		cfg.CheckFrom = mark.Durable + 1
		if s.opts.durability == NoSync {
			cfg.OnHole = s.onHole
		}
	}
	l, err := kvlog.Open(kv, cfg)
	if err != nil {
		_ = kv.Close()
		s.closeMark()
		return fmt.Errorf("eventstore: open the log in %s: %w", engineDir, err)
	}
	s.log = l
	s.checkpointer, _ = s.log.(logstore.Checkpointer)
	s.recovery.Backend = s.backend
	s.recovery.Head = Offset(l.Head())
	err = s.checkMark(mark, found)
	if err == nil && s.sm != nil {
		err = s.sm.recover(&s.recovery)
	}
	if err == nil {
		err = s.writeOpenMark()
	}
	if err != nil {
		_ = l.Close()
		s.closeMark()
		return err
	}
	s.recovery.Generation = s.generation
	return nil
}

// resolveBackend reconciles WithBackend with the engine the directory
// records, and records it for a new store.
func (s *Store) resolveBackend() (backend.Engine, error) {
	sf, found, err := layout.ReadStore(s.dir)
	if err != nil {
		return nil, err
	}
	s.sf = sf
	name := s.opts.backend
	switch {
	case found && name != "" && name != sf.Backend:
		return nil, fmt.Errorf("%w: %s holds a %q store, not %q: open it with WithBackend(%q), or migrate it (eventstore migrate)",
			ErrBackendMismatch, s.dir, sf.Backend, name, sf.Backend)
	case found:
		name = sf.Backend
	case name == "":
		name = DefaultBackend
	}
	s.backend = name
	engine := s.opts.engine
	if engine == nil {
		if engine, err = backend.Lookup(name); err != nil {
			return nil, err
		}
	}
	if !found {
		if s.sf, err = layout.CreateStore(s.dir, name); err != nil {
			return nil, err
		}
	}
	s.generation = s.sf.Gen()
	return engine, nil
}

// onCommit runs on the committing goroutine after each durable commit.
func (s *Store) onCommit(recs []logstore.Record) {
	if s.opts.durability == Sync && len(recs) > 0 {
		last := recs[len(recs)-1].Offset
		s.advanceMark(last, last)
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

// Dir returns the store's directory.
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
