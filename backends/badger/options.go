package badger

import (
	"fmt"
	"log/slog"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/skl"
)

// Size units used in the documentation and defaults.
const (
	mib = 1 << 20
	gib = 1 << 30
)

// Defaults applied by Open to the zero fields of Options. They are sized for
// a machine that opens several stores at once: one store's memory is roughly
// (NumMemtables+1) × 1.3 × MemTableSize of memtable arenas (each allocated on
// the Go heap in full when its memtable is created: 83 MiB each, 333 MiB at
// most with the defaults, one or two in steady state) plus BlockCacheSize, plus the table indexes and bloom filters
// (kept in memory when IndexCacheSize is 0), plus the value-log and WAL files
// mapped into the address space (not counted in the heap).
const (
	DefaultMemTableSize      = 64 * mib
	DefaultNumMemtables      = 3
	DefaultValueThreshold    = 1 * mib // badger's maximum
	DefaultValueLogFileSize  = 256 * mib
	DefaultBlockCacheSize    = 16 * mib
	DefaultNumVersionsToKeep = 1
)

// Bounds checked by Open.
const (
	minMemTableSize     = 1 * mib
	maxMemTableSize     = 1 * gib // the memtable WAL is mapped at 2 × MemTableSize, with uint32 offsets
	minValueThreshold   = 16      // see errUnreadableValue
	maxValueThreshold   = 1 * mib // badger rejects more (badger db.go:164)
	minValueLogFileSize = 1 * mib // badger's range is [1 MiB, 2 GiB) (badger db.go:181)
	maxValueLogFileSize = 2*gib - 1
	maxKeyLen           = 65000 - 1 // badger's key limit (txn.go:352) minus the key prefix byte
)

// Compression selects how table blocks are compressed. The zero value is
// CompressionDefault.
type Compression int

const (
	// CompressionDefault selects CompressionSnappy.
	CompressionDefault Compression = iota
	// CompressionNone stores blocks uncompressed. It is the only choice that
	// allows a disabled block cache (BlockCacheSize < 0).
	CompressionNone
	// CompressionSnappy compresses blocks with Snappy: fast, moderate ratio.
	CompressionSnappy
	// CompressionZSTD compresses blocks with Zstandard (level 1, pure Go):
	// better ratio, more CPU.
	CompressionZSTD
)

// String returns the name of c.
func (c Compression) String() string {
	switch c {
	case CompressionDefault:
		return "default"
	case CompressionNone:
		return "none"
	case CompressionSnappy:
		return "snappy"
	case CompressionZSTD:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// Options configures the badger engine. Pass an Options or *Options as
// backend.Options.Config (eventstore.WithBackendConfig); nil selects the
// defaults. Every zero field selects its documented default, so the zero
// value is the recommended configuration. Open copies the value and never
// modifies the caller's.
type Options struct {
	// MemTableSize is the size of one memtable and of its write-ahead log,
	// in bytes. Default 64 MiB; valid range 1 MiB to 1 GiB. It also bounds
	// one batch: see BatchLimits.
	MemTableSize int64

	// NumMemtables is how many full memtables may wait for their flush to
	// disk before commits stall. Default 3; must not be negative.
	NumMemtables int

	// ValueThreshold is the value size, in bytes, from which a value is
	// stored in the value log instead of inline in the write-ahead log and
	// the LSM tree. Default 1 MiB (badger's maximum), or the batch byte
	// limit when that is smaller; valid range 16 bytes to 1 MiB and at most
	// the batch byte limit. Values stored inline are the safest: see the
	// package documentation on crash consistency.
	ValueThreshold int64

	// ValueLogFileSize is the size at which a value-log file is rotated,
	// in bytes. It is also the largest value the engine accepts. Default
	// 256 MiB; valid range 1 MiB to 2 GiB - 1.
	ValueLogFileSize int64

	// BlockCacheSize is the size of the cache of decompressed table
	// blocks, in bytes. Default 16 MiB. A negative value disables the
	// cache, which badger allows only with CompressionNone.
	BlockCacheSize int64

	// IndexCacheSize is the size of the cache of table indexes and bloom
	// filters, in bytes. Default 0: no cache, every table's index and
	// bloom filter stay in memory (badger's default). A positive value
	// bounds that memory instead. Must not be negative.
	IndexCacheSize int64

	// NumVersionsToKeep is how many versions of a key compaction keeps.
	// The engine only ever reads the newest, so more only costs space.
	// Default 1; must not be negative.
	NumVersionsToKeep int

	// Compression selects the block compression of new tables. Default
	// Snappy. Existing tables keep the compression they were written with.
	Compression Compression

	// DisableVerifyOnOpen skips the checks of the tables listed in the
	// MANIFEST that Open performs before it opens badger, and the
	// verification of new tables while the store is open and at Close. The
	// checks are what turn a damaged table into an error wrapping
	// backend.ErrCorrupt: without them, badger may open a damaged store and
	// lose the damaged blocks' keys silently, or crash the process. Default
	// false (check). Badger's own ChecksumVerificationMode OnTableRead is not
	// used because it crashes the process on a damaged block (see doc.go).
	DisableVerifyOnOpen bool

	// VerifyAllOnOpen makes Open verify every block checksum of every table,
	// also of the tables that the record of verified tables (the file
	// VERIFIED) holds in the state their file is in. Set it after a disk
	// reported errors or was replaced, or to check the whole store on a
	// schedule: it finds damage that happened below the file system, which
	// leaves a file's times unchanged. Open then reads every table, which
	// takes time in proportion to the store's size. Default false.
	VerifyAllOnOpen bool

	// DisableBlockChecksums stops badger from verifying the checksum of
	// each table block it reads (ChecksumVerificationMode OnBlockRead).
	// Default false (verify on every block read).
	DisableBlockChecksums bool

	// DisableValueChecksums stops badger from verifying the checksum of
	// each value it reads from the value log (VerifyValueChecksum).
	// Default false (verify).
	DisableValueChecksums bool
}

// DefaultOptions returns the options Open uses when Config is nil, with every
// default filled in.
func DefaultOptions() Options {
	o, err := Options{}.resolve()
	if err != nil {
		panic(err) // the defaults are valid; a test checks it
	}
	return o
}

// BatchLimits returns the bounds of one batch with o (after defaults are
// applied). Commit rejects a batch, as a whole and writing nothing, unless it
// has fewer than maxWrites-1 writes and its cost, plus about 40 bytes for
// badger's commit marker, is below maxBytes. One write costs len(key) + 13
// bytes, plus len(value) when the value is stored inline (shorter than
// ValueThreshold) or 12 bytes when it goes to the value log. maxBytes is 15%
// of MemTableSize and maxWrites is maxBytes divided by the size of a skiplist
// node, 96 bytes on 64-bit platforms (badger db.go:154-155, txn.go:335-344,
// db.go:916-928). With the defaults that is 10,066,329 bytes and 104,857
// writes. An open store reports the same figures through its MaxBatchSize
// and MaxBatchCount methods.
func (o Options) BatchLimits() (maxBytes, maxWrites int64, err error) {
	r, err := o.resolve()
	if err != nil {
		return 0, 0, err
	}
	maxBytes, maxWrites = batchLimits(r.MemTableSize)
	return maxBytes, maxWrites, nil
}

func batchLimits(memTableSize int64) (maxBytes, maxWrites int64) {
	maxBytes = 15 * memTableSize / 100
	return maxBytes, maxBytes / int64(skl.MaxNodeSize)
}

// configOptions returns the Options carried by a backend.Options.Config.
func configOptions(cfg any) (Options, error) {
	switch c := cfg.(type) {
	case nil:
		return Options{}, nil
	case Options:
		return c, nil
	case *Options:
		if c == nil {
			return Options{}, nil
		}
		return *c, nil // a copy: the caller's value is never modified
	}
	return Options{}, fmt.Errorf("badger: unsupported Config of type %T: pass badger.Options or *badger.Options from github.com/durablelog/eventstore/backends/badger, or nil for the defaults", cfg)
}

// resolve returns a copy of o with the defaults filled in, or an error naming
// the first invalid field.
func (o Options) resolve() (Options, error) {
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.MemTableSize < minMemTableSize || o.MemTableSize > maxMemTableSize {
		return o, fmt.Errorf("badger: invalid Options.MemTableSize %d: must be between %d (1 MiB) and %d (1 GiB), or 0 for the default (64 MiB)", o.MemTableSize, minMemTableSize, maxMemTableSize)
	}
	maxBytes, _ := batchLimits(o.MemTableSize)
	if o.NumMemtables == 0 {
		o.NumMemtables = DefaultNumMemtables
	}
	if o.NumMemtables < 0 {
		return o, fmt.Errorf("badger: invalid Options.NumMemtables %d: must be positive, or 0 for the default (%d)", o.NumMemtables, DefaultNumMemtables)
	}
	if o.ValueThreshold == 0 {
		o.ValueThreshold = min(DefaultValueThreshold, maxBytes)
	}
	if o.ValueThreshold < minValueThreshold || o.ValueThreshold > maxValueThreshold || o.ValueThreshold > maxBytes {
		return o, fmt.Errorf("badger: invalid Options.ValueThreshold %d: must be between %d and %d (the smaller of 1 MiB and 15%% of MemTableSize %d), or 0 for the default", o.ValueThreshold, minValueThreshold, min(maxValueThreshold, maxBytes), o.MemTableSize)
	}
	if o.ValueLogFileSize == 0 {
		o.ValueLogFileSize = DefaultValueLogFileSize
	}
	if o.ValueLogFileSize < minValueLogFileSize || o.ValueLogFileSize > maxValueLogFileSize {
		return o, fmt.Errorf("badger: invalid Options.ValueLogFileSize %d: must be between %d (1 MiB) and %d (2 GiB - 1), or 0 for the default (256 MiB)", o.ValueLogFileSize, minValueLogFileSize, maxValueLogFileSize)
	}
	if o.BlockCacheSize == 0 {
		o.BlockCacheSize = DefaultBlockCacheSize
	}
	if o.IndexCacheSize < 0 {
		return o, fmt.Errorf("badger: invalid Options.IndexCacheSize %d: must be 0 (indexes stay in memory) or positive", o.IndexCacheSize)
	}
	if o.NumVersionsToKeep == 0 {
		o.NumVersionsToKeep = DefaultNumVersionsToKeep
	}
	if o.NumVersionsToKeep < 0 {
		return o, fmt.Errorf("badger: invalid Options.NumVersionsToKeep %d: must be positive, or 0 for the default (1)", o.NumVersionsToKeep)
	}
	if o.Compression == CompressionDefault {
		o.Compression = CompressionSnappy
	}
	if o.Compression < CompressionDefault || o.Compression > CompressionZSTD {
		return o, fmt.Errorf("badger: invalid Options.Compression %v: use CompressionNone, CompressionSnappy or CompressionZSTD", o.Compression)
	}
	if o.BlockCacheSize < 0 && o.Compression != CompressionNone {
		return o, fmt.Errorf("badger: invalid Options: a disabled block cache (BlockCacheSize %d) requires Compression = CompressionNone; badger needs the cache for compressed tables", o.BlockCacheSize)
	}
	return o, nil
}

// badgerOptions translates resolved options into badger's.
func (o Options) badgerOptions(dir string, logger *slog.Logger) bdg.Options {
	bo := bdg.DefaultOptions(dir)
	bo.Logger = newLogAdapter(logger, dir)
	bo.MetricsEnabled = false // badger's metrics are process-global expvars
	bo.SyncWrites = false     // Commit(sync) syncs explicitly: see doc.go
	bo.DetectConflicts = false
	bo.MemTableSize = o.MemTableSize
	bo.NumMemtables = o.NumMemtables
	bo.ValueThreshold = o.ValueThreshold
	bo.ValueLogFileSize = o.ValueLogFileSize
	bo.BlockCacheSize = max(o.BlockCacheSize, 0)
	bo.IndexCacheSize = o.IndexCacheSize
	bo.NumVersionsToKeep = o.NumVersionsToKeep
	switch o.Compression {
	case CompressionNone:
		bo.Compression = options.None
	case CompressionZSTD:
		bo.Compression = options.ZSTD
	default:
		bo.Compression = options.Snappy
	}
	bo.ChecksumVerificationMode = options.OnBlockRead
	if o.DisableBlockChecksums {
		bo.ChecksumVerificationMode = options.NoVerification
	}
	bo.VerifyValueChecksum = !o.DisableValueChecksums
	return bo
}
