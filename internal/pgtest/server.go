package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Errors of the methods of Server. They may be wrapped: use errors.Is.
var (
	// ErrNotRunning: Stop or Kill on a server that is not running.
	ErrNotRunning = errors.New("pgtest: the server is not running")
	// ErrRunning: Restart on a server that is running.
	ErrRunning = errors.New("pgtest: the server is running: Kill or Stop it first")
	// ErrClosed: a method on a server after its Close.
	ErrClosed = errors.New("pgtest: the server is closed")
	// ErrShared: Stop, Kill, Restart or Close on the server of Shared,
	// which other tests use. Start a server of your own to crash it.
	ErrShared = errors.New("pgtest: the shared server cannot be stopped, killed, restarted or closed by a test; use Start for a server of your own")
)

// maxPortAttempts is how many ports StartServer tries when another process
// takes each before the server binds it.
const maxPortAttempts = 5

// errPortTaken means that the server could not bind its port.
var errPortTaken = errors.New("pgtest: the port was taken")

// A Server is a PostgreSQL server in a temporary directory, run by this
// process. Its methods may be called from several goroutines at once.
type Server struct {
	cfg    Config
	bin    binaries
	acct   account
	layout layout
	port   int  // fixed once StartServer returns
	shared bool // the server of Shared

	mu     sync.Mutex
	pm     *postmaster // nil when not running
	closed bool
}

// Start starts a server for the test tb, as StartServer does with a Config
// that the options make, and fails the test when it cannot. The server is
// stopped and its directory removed when the test ends, however it ends;
// when it failed, the end of the server's log is logged first.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var cfg Config
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.Logf == nil {
		cfg.Logf = tb.Logf
	}
	s, err := StartServer(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("pgtest: the end of %s:\n%s", s.layout.log, logTail(s.layout.log, 0))
		}
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// StartServer makes a cluster in a new temporary directory, starts a
// server on it, and returns once the server accepts connections. ctx
// bounds the start (as does cfg.StartTimeout), not the server's life: the
// caller must Close the server. On error, nothing is left running or on
// disk.
func StartServer(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	bin, err := findBinaries(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount(cfg.User)
	if err != nil {
		return nil, err
	}
	l, err := makeLayout(cfg.BaseDir, acct)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, bin: bin, acct: acct, layout: l}
	if err := s.setUp(ctx); err != nil {
		return nil, removeAfter(l.dir, errors.Join(err, removeStaleSegment(l.data)))
	}
	return s, nil
}

// setUp makes the cluster and starts the server on a free port.
func (s *Server) setUp(ctx context.Context) error {
	began := time.Now()
	initCtx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	if err := initdb(initCtx, s.bin, s.acct, s.layout, s.cfg.Superuser); err != nil {
		return err
	}
	if err := includeSettings(s.layout); err != nil {
		return err
	}
	if s.cfg.TLS {
		if err := writeCertificate(s.layout, s.acct); err != nil {
			return err
		}
	}
	s.cfg.Logf("pgtest: initdb from %s into %s took %v", s.bin.dir, s.layout.data, time.Since(began).Round(time.Millisecond))
	for attempt := 1; ; attempt++ {
		port, err := pickPort()
		if err != nil {
			return err
		}
		s.port = port
		if err := writeSettings(s.cfg, s.layout, s.acct, port); err != nil {
			return err
		}
		err = s.start(ctx)
		if errors.Is(err, errPortTaken) && attempt < maxPortAttempts {
			s.cfg.Logf("pgtest: port %d was taken; trying another", port)
			continue
		}
		return err
	}
}

// start starts the server and waits until it accepts connections. The
// caller holds s.mu, or has the server to itself.
func (s *Server) start(ctx context.Context) error {
	offset, err := logSize(s.layout.log)
	if err != nil {
		return err
	}
	began := time.Now()
	p, err := startPostmaster(s.bin, s.acct, s.layout)
	if err != nil {
		return err
	}
	readyCtx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	if err := s.waitReady(readyCtx, p); err != nil {
		var killErr error
		if p.running() {
			killCtx, cancel := context.WithTimeout(context.Background(), s.cfg.StopTimeout)
			defer cancel()
			killErr = p.kill(killCtx)
		}
		log := logTail(s.layout.log, offset)
		if errors.Is(err, errExited) && strings.Contains(log, "Address already in use") {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return errors.Join(fmt.Errorf("%w\nthe end of %s:\n%s", err, s.layout.log, log), killErr)
	}
	s.pm = p
	s.cfg.Logf("pgtest: postgres (pid %d) accepts connections on 127.0.0.1:%d after %v",
		p.pid, s.port, time.Since(began).Round(time.Millisecond))
	return nil
}

// Stop shuts the server down (fast shutdown: clients are disconnected and
// a checkpoint written), killing it when that takes longer than
// Config.StopTimeout. Restart starts it again.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if s.pm == nil {
		return ErrNotRunning
	}
	return s.stopLocked()
}

// stopLocked shuts the running server down. The caller holds s.mu.
func (s *Server) stopLocked() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StopTimeout)
	defer cancel()
	err := s.pm.shutdown(ctx, s.cfg.StopTimeout)
	s.pm = nil
	return err
}

// Kill crashes the server: it sends SIGKILL to the postmaster and every
// process it forked, and returns once all have exited (or after
// Config.StopTimeout, with an error). Restart starts it again, and
// PostgreSQL then recovers from its write-ahead log. Kill of a server that
// had exited by itself returns an error that says how it exited, and the
// server may be restarted after it too.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if s.pm == nil {
		return ErrNotRunning
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StopTimeout)
	defer cancel()
	err := s.pm.kill(ctx)
	s.pm = nil
	return err
}

// Restart starts the server again on the same directory and port, after
// Kill or Stop, and returns once it accepts connections: after crash
// recovery, when it was killed. ctx bounds the wait, as does
// Config.StartTimeout.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if s.pm != nil {
		return ErrRunning
	}
	return s.start(ctx)
}

// Close stops the server (as Stop does) when it runs, removes the shared
// memory segment that a killed server leaves behind, and removes the
// temporary directory. Closing a closed server does nothing. Start
// registers Close with tb.Cleanup.
func (s *Server) Close() error {
	if s.shared {
		return ErrShared
	}
	return s.close()
}

// close is Close, for the shared server too.
func (s *Server) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.pm != nil {
		errs = append(errs, s.stopLocked())
	}
	if err := removeStaleSegment(s.layout.data); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(s.layout.dir); err != nil {
		errs = append(errs, fmt.Errorf("pgtest: remove the server's directory: %w", err))
	}
	return errors.Join(errs...)
}

// usable fails for the shared server and a closed one. The caller holds
// s.mu.
func (s *Server) usable() error {
	if s.shared {
		return ErrShared
	}
	if s.closed {
		return ErrClosed
	}
	return nil
}

// PID returns the process id of the postmaster, or 0 when the server is
// not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pm == nil {
		return 0
	}
	return s.pm.pid
}

// Port returns the server's TCP port on 127.0.0.1. It stays the same
// across restarts.
func (s *Server) Port() int { return s.port }

// Dir returns the temporary directory, which Close removes.
func (s *Server) Dir() string { return s.layout.dir }

// DataDir returns the data directory (PGDATA) in Dir.
func (s *Server) DataDir() string { return s.layout.data }

// LogFile returns the path of the server's log, which holds the output of
// every start.
func (s *Server) LogFile() string { return s.layout.log }

// BinDir returns the directory of the server programs in use.
func (s *Server) BinDir() string { return s.bin.dir }

// RootCertFile returns the path of the server's self-signed certificate,
// for sslrootcert and sslmode=verify-full, or "" when the server was
// started without TLS.
func (s *Server) RootCertFile() string {
	if !s.cfg.TLS {
		return ""
	}
	return filepath.Join(s.layout.data, certFile)
}
