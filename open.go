package eventstore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/benchknobs"
	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/logstore"
	"github.com/durablelog/eventstore/logstore/kvlog"
)

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
	if dir == "" {
		return nil, fmt.Errorf("eventstore: no directory given: give Open the store's directory")
	}
	// The store writes files in dir for as long as it is open: a relative
	// path would follow the process's working directory if it changed.
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("eventstore: resolve the directory %s: %w", dir, err)
	}
	dir = abs
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
	if !benchknobs.NoMetrics.Load() {
		s.metrics = newStoreMetrics()
	}
	if err := s.open(); err != nil {
		_ = unlockFile(lock)
		return nil, err
	}
	s.recovery.Duration = time.Since(start)
	s.recovery.log(logger)
	return s, nil
}

// source is what a backend name resolves to: an engine that the store runs
// under logstore/kvlog, or a log backend that sequences appends itself.
type source struct {
	engine backend.Engine
	opener logstore.Opener
}

func (s *Store) open() error {
	src, err := s.resolveBackend()
	if err != nil {
		return err
	}
	if s.opts.stateMachine != nil {
		s.sm = newStateMachine(s, s.opts.stateMachine)
	}
	cfg := logstore.Config{
		Sync:           s.opts.durability == Sync,
		OnCommit:       s.onCommit,
		MaxBatchEvents: s.opts.maxBatchEvents,
		MaxBatchBytes:  s.opts.maxBatchBytes,
	}
	if s.metrics != nil {
		cfg.Observer = s.metrics
	}
	if src.opener != nil {
		err = s.openShared(src.opener, cfg)
	} else {
		err = s.openLocal(src.engine, cfg)
	}
	if err != nil {
		return err
	}
	s.checkpointer, _ = s.log.(logstore.Checkpointer)
	s.recovery.Generation = s.generation
	return nil
}

// openLocal opens a log of an engine in dir/engine, under logstore/kvlog,
// with the head mark.
func (s *Store) openLocal(engine backend.Engine, cfg logstore.Config) error {
	engineDir := layout.Engine(s.dir)
	if err := fsutil.MkdirAllSync(engineDir, 0o755); err != nil {
		return fmt.Errorf("eventstore: create %s: %w", engineDir, err)
	}
	kv, err := engine.Open(engineDir, backend.Options{Logger: s.logger.With("engine", s.backend), Config: s.opts.backendConfig})
	if err != nil {
		return fmt.Errorf("eventstore: open the %s engine in %s: %w", s.backend, engineDir, err)
	}
	mark, found, err := s.openMark()
	if err != nil {
		_ = kv.Close()
		return err
	}
	cfg.OnSync = s.onSync
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
	s.recovery.Backend = s.backend
	s.recovery.Head = l.Head()
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
	return nil
}

// openShared opens a log backend that sequences appends itself and that
// other processes may share: no head mark, the generation is the log's.
func (s *Store) openShared(o logstore.Opener, cfg logstore.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.openTimeout)
	defer cancel()
	l, err := o.OpenLog(ctx, logstore.OpenOptions{Dir: s.dir, Config: cfg, BackendConfig: s.opts.backendConfig,
		Logger: s.logger.With("backend", s.backend)})
	if err != nil {
		return fmt.Errorf("eventstore: open the %s log: %w", s.backend, err)
	}
	s.log = l
	if sh, ok := l.(logstore.Shared); ok {
		s.shared = sh
		err = s.checkIdentity(sh.Identity())
		s.generation = sh.Generation()
	}
	s.recovery.Backend = s.backend
	s.recovery.Head = l.Head()
	if err == nil && s.sm != nil {
		err = s.sm.recover(&s.recovery)
	}
	if err != nil {
		_ = l.Close()
		return err
	}
	return nil
}

// checkIdentity records where a shared log lives in the directory's STORE
// file the first time, and refuses another place later.
func (s *Store) checkIdentity(id string) error {
	switch s.sf.Location {
	case id:
		return nil
	case "":
		sf := s.sf
		sf.Location = id
		if err := layout.WriteStore(s.dir, sf); err != nil {
			return err
		}
		s.sf = sf
		return nil
	}
	return fmt.Errorf("%w: %s belongs to the %s log at %s, not %s: open it with that configuration, or use another directory",
		ErrBackendMismatch, s.dir, s.backend, s.sf.Location, id)
}

// resolveBackend reconciles WithBackend with the backend the directory
// records, and records it for a new store.
func (s *Store) resolveBackend() (source, error) {
	sf, found, err := layout.ReadStore(s.dir)
	if err != nil {
		return source{}, err
	}
	s.sf = sf
	name := s.opts.backend
	switch {
	case found && name != "" && name != sf.Backend:
		return source{}, fmt.Errorf("%w: %s holds a %q store, not %q: open it with WithBackend(%q), or migrate it (eventstore migrate)",
			ErrBackendMismatch, s.dir, sf.Backend, name, sf.Backend)
	case found:
		name = sf.Backend
	case name == "":
		name = DefaultBackend
	}
	s.backend = name
	src, err := s.lookup(name)
	if err != nil {
		return src, err
	}
	if !found {
		if s.sf, err = layout.CreateStore(s.dir, name); err != nil {
			return src, err
		}
	}
	s.generation = s.sf.Gen()
	return src, nil
}

// lookup finds the backend registered under name: an engine (package
// backend) or a log backend (package logstore).
func (s *Store) lookup(name string) (source, error) {
	if s.opts.engine != nil {
		return source{engine: s.opts.engine}, nil
	}
	if o, ok := logstore.Lookup(name); ok {
		return source{opener: o}, nil
	}
	if e, err := backend.Lookup(name); err == nil {
		return source{engine: e}, nil
	}
	return source{}, unknownBackend(name)
}

// unknownBackend is the error for a name no backend is registered under: it
// lists the registered names, engines and log backends alike.
func unknownBackend(name string) error {
	names := append(backend.Names(), logstore.Names()...)
	list := "none"
	if len(names) > 0 {
		list = strings.Join(names, ", ")
	}
	return fmt.Errorf("%w %q (registered: %s; forgotten import of github.com/durablelog/eventstore/backends/%s?)",
		ErrUnknownBackend, name, list, name)
}
