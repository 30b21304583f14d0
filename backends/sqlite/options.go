package sqlite

import (
	"fmt"
	"time"
)

// Defaults, used where Options leaves a field zero.
const (
	// DefaultCacheSize is the default page cache of each connection: 8 MiB.
	DefaultCacheSize = 8 << 20
	// DefaultBusyTimeout is the default time a connection waits for a lock
	// held by another connection: 5 seconds.
	DefaultBusyTimeout = 5 * time.Second
	// DefaultMaxIdleReaders is the default number of idle read connections
	// kept open: 4.
	DefaultMaxIdleReaders = 4
	// DefaultAutoCheckpoint is the default WAL size, in pages, that starts
	// an automatic checkpoint: 1000 pages (4 MiB with 4 KiB pages),
	// SQLite's own default.
	DefaultAutoCheckpoint = 1000
)

// OpenCheck selects the integrity check that Open runs before it returns a
// store.
type OpenCheck int

const (
	// CheckAfterCrash runs CheckQuick when the previous session did not end
	// with a clean Close (a crash, a kill, a power cut, a failed Close, or a
	// store that has never been opened), and no check after a clean Close,
	// which leaves the marker file CleanMarkName beside the database. It is
	// the default (the zero value): a restart after a clean shutdown then
	// costs the same at a million events as at ten thousand, while damage
	// left by a crash is still found before the store is used. Damage that
	// appears in the file while the store is closed is found when it is read
	// (errors wrapping backend.ErrCorrupt, and the event store's record
	// checksums), or at Open with CheckQuick.
	CheckAfterCrash OpenCheck = iota
	// CheckQuick runs PRAGMA quick_check at every Open, which reads every
	// page of the database and checks the b-tree structure and the page
	// accounting: Open's cost grows with the database (about 2 s at a
	// million 200-byte events).
	CheckQuick
	// CheckFull runs PRAGMA integrity_check, which adds the checks that
	// only matter for indexes and constraints. With this engine's single
	// table it costs about the same as CheckQuick.
	CheckFull
	// CheckNone skips the check: Open then reads only the database header
	// and the schema, and damage elsewhere is found when it is read (Get
	// and iterators return errors wrapping backend.ErrCorrupt).
	CheckNone
)

// String returns the name of the check.
func (c OpenCheck) String() string {
	switch c {
	case CheckAfterCrash:
		return "quick_check after a crash"
	case CheckQuick:
		return "quick_check"
	case CheckFull:
		return "integrity_check"
	case CheckNone:
		return "none"
	default:
		return fmt.Sprintf("OpenCheck(%d)", int(c))
	}
}

// Options are the settings of the sqlite engine. Pass an Options or an
// *Options as backend.Options.Config (eventstore.WithBackendConfig); a nil
// Config, a nil *Options and the zero Options all select the defaults. Open
// copies the value and never modifies it.
type Options struct {
	// CacheSize is the size in bytes of the page cache of each connection
	// (PRAGMA cache_size). The store has one writer connection and up to
	// MaxIdleReaders idle read connections, each with its own cache, which
	// fills only as pages are read. Zero means DefaultCacheSize (8 MiB). It
	// must not be negative.
	CacheSize int64

	// BusyTimeout is how long a connection retries when another connection
	// holds a lock it needs (PRAGMA busy_timeout). The store's own
	// connections rarely wait: there is one writer, and in WAL mode
	// readers do not block it. Zero means DefaultBusyTimeout (5 s). It
	// must not be negative, and is rounded down to whole milliseconds.
	BusyTimeout time.Duration

	// MaxIdleReaders is the number of read connections kept open while
	// idle. Each open iterator holds a read connection until it is closed,
	// and more are opened on demand, without limit; the ones beyond
	// MaxIdleReaders are closed when they are released. Zero means
	// DefaultMaxIdleReaders (4). It must not be negative.
	MaxIdleReaders int

	// AutoCheckpoint is the size of the write-ahead log, in pages, beyond
	// which a commit also copies the log into the database file: the
	// writer's own PRAGMA wal_checkpoint(PASSIVE), which reports its
	// errors, in place of SQLite's wal_autocheckpoint, which does not. The
	// size is estimated from the bytes committed. A larger value means
	// fewer, larger checkpoints and a larger log to recover after a crash. Open iterators hold the
	// log back: it is copied only up to the oldest view still in use. Zero
	// means DefaultAutoCheckpoint (1000 pages). It must not be negative;
	// the log is always checkpointed.
	AutoCheckpoint int

	// OpenCheck is the integrity check Open runs; see OpenCheck. The
	// default (zero) is CheckAfterCrash.
	OpenCheck OpenCheck
}

// configFrom returns a copy of the engine settings in cfg.
func configFrom(cfg any) (Options, error) {
	switch c := cfg.(type) {
	case nil:
		return Options{}, nil
	case Options:
		return c, nil
	case *Options:
		if c == nil {
			return Options{}, nil
		}
		return *c, nil
	default:
		return Options{}, fmt.Errorf("sqlite: backend.Options.Config has type %T; the sqlite engine accepts sqlite.Options or *sqlite.Options (package github.com/durablelog/eventstore/backends/sqlite), or nil for the defaults", cfg)
	}
}

// validate checks the fields of o before defaults are filled in.
func (o Options) validate() error {
	switch {
	case o.CacheSize < 0:
		return fmt.Errorf("sqlite: Options.CacheSize is %d; set it to a positive size in bytes, or 0 for the default (%d)", o.CacheSize, DefaultCacheSize)
	case o.BusyTimeout < 0:
		return fmt.Errorf("sqlite: Options.BusyTimeout is %v; set it to a positive duration, or 0 for the default (%v)", o.BusyTimeout, DefaultBusyTimeout)
	case o.MaxIdleReaders < 0:
		return fmt.Errorf("sqlite: Options.MaxIdleReaders is %d; set it to a positive number, or 0 for the default (%d)", o.MaxIdleReaders, DefaultMaxIdleReaders)
	case o.AutoCheckpoint < 0:
		return fmt.Errorf("sqlite: Options.AutoCheckpoint is %d; set it to a positive number of pages, or 0 for the default (%d)", o.AutoCheckpoint, DefaultAutoCheckpoint)
	case o.OpenCheck < CheckAfterCrash || o.OpenCheck > CheckNone:
		return fmt.Errorf("sqlite: Options.OpenCheck is %v; use sqlite.CheckAfterCrash (the default), sqlite.CheckQuick, sqlite.CheckFull or sqlite.CheckNone", o.OpenCheck)
	}
	return nil
}

// withDefaults returns o with its zero fields set to the defaults.
func (o Options) withDefaults() Options {
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.MaxIdleReaders == 0 {
		o.MaxIdleReaders = DefaultMaxIdleReaders
	}
	if o.AutoCheckpoint == 0 {
		o.AutoCheckpoint = DefaultAutoCheckpoint
	}
	return o
}

// pragmas returns the settings every connection of the store gets, in the
// order they are applied.
func (o Options) pragmas() []string {
	return []string{
		fmt.Sprintf("PRAGMA busy_timeout = %d", o.BusyTimeout.Milliseconds()),
		// A negative cache_size is in KiB; round up so a small size is
		// not zero.
		fmt.Sprintf("PRAGMA cache_size = %d", -((o.CacheSize + 1023) / 1024)),
		// Extra sanity checks on every b-tree page read from disk: damage
		// is reported as SQLITE_CORRUPT sooner.
		"PRAGMA cell_size_check = ON",
		"PRAGMA trusted_schema = OFF",
	}
}
