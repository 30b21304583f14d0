package pebble

import (
	"fmt"
	"log/slog"

	cpebble "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Default sizes, used where Options leaves a size zero.
const (
	// DefaultCacheSize is the default size of the block cache: 64 MiB.
	DefaultCacheSize = 64 << 20
	// DefaultMemTableSize is the default size of a memtable: 16 MiB.
	DefaultMemTableSize = 16 << 20
	// DefaultMaxOpenFiles is the default soft limit on open files: 1000.
	DefaultMaxOpenFiles = 1000
)

// maxMemTableSize is Pebble's limit on MemTableSize (exclusive) on 64-bit
// platforms.
const maxMemTableSize = 4 << 30

// Options are the settings of the pebble engine. Pass an Options or an
// *Options as backend.Options.Config (eventstore.WithBackendConfig); a nil
// Config, a nil *Options and the zero Options all select the defaults. Open
// copies the value and never modifies it.
type Options struct {
	// FS is the file system the store's files live in. The default is
	// vfs.Default, the operating system's. Tests can pass vfs.NewMem(), or
	// vfs.NewCrashableMem() to simulate crashes with CrashClone; the
	// directory passed to Open then names a path inside that file system,
	// and a later Open with the same FS value (or a crash clone of it) and
	// the same directory finds the data.
	FS vfs.FS

	// CacheSize is the size in bytes of the block cache, which holds
	// uncompressed sstable blocks. Zero means DefaultCacheSize (64 MiB).
	// It must not be negative.
	CacheSize int64

	// MemTableSize is the size in bytes of a memtable, the in-memory table
	// that receives writes until it is flushed to an sstable. A larger
	// memtable means fewer, larger flushes and a longer WAL replay on Open.
	// Zero means DefaultMemTableSize (16 MiB). It must be below 4 GiB and
	// not negative.
	MemTableSize int64

	// MaxOpenFiles is a soft limit on the number of files the store keeps
	// open. Zero means DefaultMaxOpenFiles (1000). It must not be negative.
	MaxOpenFiles int

	// FormatMajorVersion is the on-disk format a new store is created with,
	// and the format an older store is upgraded to on Open (an upgrade
	// cannot be undone: older Pebble versions may not read the store
	// after it). Zero means pebble.FormatNewest, the newest format this
	// Pebble version supports. Otherwise it must lie between
	// pebble.FormatMinSupported and pebble.FormatNewest. A store written in
	// a newer format than this keeps its format.
	FormatMajorVersion cpebble.FormatMajorVersion

	// NoSyncBuffered makes Commit(sync=false) use pebble.NoSync, which
	// leaves the batch in an in-process buffer: faster, but a process crash
	// can then lose batches committed without sync, which the
	// backend.Batch contract forbids. The default, false, commits them with
	// pebble.Sync instead. See the package documentation.
	NoSyncBuffered bool

	// Logger receives Pebble's log messages. The default (nil) logs to the
	// *slog.Logger of backend.Options, with the attributes engine=pebble and
	// dir: Pebble's informational messages (flushes, compactions, WAL
	// rotations) at slog.LevelDebug, or at slog.LevelInfo with VerboseLogs;
	// errors at slog.LevelError; and fatal errors at slog.LevelError
	// followed by a panic (see the package documentation). A custom
	// Logger's Fatalf must not return, as Pebble carries on after it.
	Logger cpebble.Logger

	// VerboseLogs logs Pebble's informational messages at slog.LevelInfo
	// rather than slog.LevelDebug. It applies only to the default Logger.
	// The default is false.
	VerboseLogs bool

	// Tune, when not nil, is called on every Open with the pebble.Options
	// that Open derived from the fields above (defaults filled in, Logger
	// and EventListener set), for settings this type does not name:
	// compaction concurrency, L0 thresholds, compression, WAL placement, an
	// EventListener of your own (combine it with the one set with
	// pebble.TeeEventListener to keep the logging), and so on. Open then
	// rejects options that would break the engine contract: DisableWAL,
	// ReadOnly, a Comparer other than Pebble's bytewise default, a nil FS,
	// and a FormatMajorVersion outside the supported range. Tune must not
	// keep the pointer. The default is nil.
	Tune func(*cpebble.Options)
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
		return Options{}, fmt.Errorf("pebble: backend.Options.Config has type %T; the pebble engine accepts pebble.Options or *pebble.Options (package github.com/durablelog/eventstore/backends/pebble), or nil for the defaults", cfg)
	}
}

// validate checks the fields of o before defaults are filled in.
func (o Options) validate() error {
	switch {
	case o.CacheSize < 0:
		return fmt.Errorf("pebble: Options.CacheSize is %d; set it to a positive size in bytes, or 0 for the default (%d)", o.CacheSize, DefaultCacheSize)
	case o.MemTableSize < 0 || o.MemTableSize >= maxMemTableSize:
		return fmt.Errorf("pebble: Options.MemTableSize is %d; set it to a size in bytes below 4 GiB, or 0 for the default (%d)", o.MemTableSize, DefaultMemTableSize)
	case o.MaxOpenFiles < 0:
		return fmt.Errorf("pebble: Options.MaxOpenFiles is %d; set it to a positive number, or 0 for the default (%d)", o.MaxOpenFiles, DefaultMaxOpenFiles)
	}
	return checkFormat(o.FormatMajorVersion, true)
}

// checkFormat checks a format major version; zero is allowed when
// zeroOK is set.
func checkFormat(v cpebble.FormatMajorVersion, zeroOK bool) error {
	if v == cpebble.FormatDefault && zeroOK {
		return nil
	}
	if v < cpebble.FormatMinSupported || v > cpebble.FormatNewest {
		return fmt.Errorf("pebble: FormatMajorVersion %d is not supported; use a version between %d and %d (pebble.FormatMinSupported and pebble.FormatNewest), or 0 for the newest",
			uint64(v), uint64(cpebble.FormatMinSupported), uint64(cpebble.FormatNewest))
	}
	return nil
}

// pebbleOptions validates o and returns the pebble.Options for a store in
// dir, with the defaults filled in and Tune applied.
func (o Options) pebbleOptions(dir string, logger *slog.Logger) (*cpebble.Options, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	po := &cpebble.Options{
		FS:                 o.FS,
		CacheSize:          o.CacheSize,
		MemTableSize:       uint64(o.MemTableSize),
		MaxOpenFiles:       o.MaxOpenFiles,
		FormatMajorVersion: o.FormatMajorVersion,
		Logger:             o.Logger,
	}
	if po.FS == nil {
		po.FS = vfs.Default
	}
	if po.CacheSize == 0 {
		po.CacheSize = DefaultCacheSize
	}
	if po.MemTableSize == 0 {
		po.MemTableSize = DefaultMemTableSize
	}
	if po.MaxOpenFiles == 0 {
		po.MaxOpenFiles = DefaultMaxOpenFiles
	}
	if po.FormatMajorVersion == cpebble.FormatDefault {
		po.FormatMajorVersion = cpebble.FormatNewest
	}
	if po.Logger == nil {
		if logger == nil {
			logger = slog.New(slog.DiscardHandler)
		}
		level := slog.LevelDebug
		if o.VerboseLogs {
			level = slog.LevelInfo
		}
		po.Logger = &slogLogger{l: logger.With("engine", Name, "dir", dir), info: level}
	}
	po.EventListener = eventListener(po.Logger)
	if o.Tune != nil {
		o.Tune(po)
		if err := checkTuned(po); err != nil {
			return nil, err
		}
	}
	return po, nil
}

// checkTuned rejects pebble.Options, as changed by Options.Tune, that would
// break the engine contract.
func checkTuned(po *cpebble.Options) error {
	switch {
	case po.DisableWAL:
		return fmt.Errorf("pebble: Options.Tune set DisableWAL; the engine needs the WAL for durability: leave it false")
	case po.ReadOnly:
		return fmt.Errorf("pebble: Options.Tune set ReadOnly; the engine needs a writable store: leave it false")
	case po.Comparer != nil && po.Comparer.Name != cpebble.DefaultComparer.Name:
		return fmt.Errorf("pebble: Options.Tune set Comparer %q; the engine orders keys bytewise: leave Comparer nil", po.Comparer.Name)
	case po.FS == nil:
		return fmt.Errorf("pebble: Options.Tune set FS to nil; set Options.FS instead")
	}
	return checkFormat(po.FormatMajorVersion, false)
}
