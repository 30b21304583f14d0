package rocksdb

import (
	"fmt"

	"github.com/linxGnu/grocksdb"
)

// Options configures a RocksDB store. Pass an Options or an *Options as
// backend.Options.Config (eventstore.WithBackendConfig). A nil Config, a nil
// *Options and the zero Options all select the defaults documented on each
// field.
//
// Open works on a copy: it fills in the defaults and validates the copy, and
// never modifies the caller's value. Open rejects invalid values with an error
// that names the field; it never silently clamps them.
type Options struct {
	// BlockCacheSize is the capacity in bytes of the LRU cache of
	// uncompressed table blocks. Each open store has a cache of its own.
	// Negative values are invalid.
	//
	// The default value is 64 MiB.
	BlockCacheSize int64

	// WriteBufferSize is the size in bytes of a memtable: the amount of
	// committed data RocksDB keeps in memory, and in the write-ahead log,
	// before it writes a table file. Larger values speed up writes and
	// slow down recovery after a crash. Values other than 0 must be at
	// least 64 KiB.
	//
	// The default value is 64 MiB.
	WriteBufferSize int64

	// MaxOpenFiles limits the table files RocksDB keeps open. -1 keeps
	// every table file open, which is fastest but needs a file-descriptor
	// limit (ulimit -n) above the number of table files. Other values must
	// be at least 20.
	//
	// The default value is -1.
	MaxOpenFiles int

	// Compression is the block compression of table files. The write-ahead
	// log is not compressed.
	//
	// The default value is CompressionLZ4.
	Compression Compression

	// WALRecoveryMode chooses what Open does when it finds a damaged record
	// in the write-ahead log. See the WALRecoveryMode constants for the
	// tradeoffs.
	//
	// The default value is WALRecoveryPointInTime.
	WALRecoveryMode WALRecoveryMode

	// DisableParanoidChecks turns off RocksDB's paranoid_checks, which
	// verify the files of the store when it opens and put the store into
	// read-only mode after a failed write or a background error rather
	// than carry on. Turning them off trades safety for availability;
	// only do it to salvage data from a damaged store.
	//
	// The default value is false: paranoid checks are on.
	DisableParanoidChecks bool

	// DisableBloomFilter turns off the bloom filter (10 bits per key,
	// about 1% false positives) stored in each table file. The filter lets
	// Get skip table files that cannot hold the key, at the cost of about
	// 1.25 bytes of disk and cache per key.
	//
	// The default value is false: the bloom filter is on.
	DisableBloomFilter bool
}

// Defaults that Open uses for the Options fields left at zero.
const (
	// DefaultBlockCacheSize is the default of Options.BlockCacheSize: 64 MiB.
	DefaultBlockCacheSize = 64 << 20
	// DefaultWriteBufferSize is the default of Options.WriteBufferSize:
	// 64 MiB.
	DefaultWriteBufferSize = 64 << 20
	// DefaultMaxOpenFiles is the default of Options.MaxOpenFiles: -1, no
	// limit.
	DefaultMaxOpenFiles = -1
)

const (
	minWriteBufferSize = 64 << 10
	minMaxOpenFiles    = 20
	bloomBitsPerKey    = 10
	keepInfoLogFiles   = 10
)

// Compression names a block compression algorithm for table files. All four
// are compiled into the Debian and Ubuntu librocksdb packages; with a
// librocksdb built without one, Open fails with an error naming it.
type Compression int

const (
	// CompressionLZ4 is LZ4: fast, with a moderate ratio. It is the zero
	// value and the default.
	CompressionLZ4 Compression = iota
	// CompressionNone stores blocks uncompressed.
	CompressionNone
	// CompressionSnappy is Snappy: about as fast as LZ4, slightly larger.
	CompressionSnappy
	// CompressionZstd is Zstandard: the best ratio of the four, and the
	// most CPU.
	CompressionZstd
)

// String returns the name of c, such as "lz4".
func (c Compression) String() string {
	switch c {
	case CompressionLZ4:
		return "lz4"
	case CompressionNone:
		return "none"
	case CompressionSnappy:
		return "snappy"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

func (c Compression) native() (grocksdb.CompressionType, error) {
	switch c {
	case CompressionLZ4:
		return grocksdb.LZ4Compression, nil
	case CompressionNone:
		return grocksdb.NoCompression, nil
	case CompressionSnappy:
		return grocksdb.SnappyCompression, nil
	case CompressionZstd:
		return grocksdb.ZSTDCompression, nil
	}
	return 0, fmt.Errorf("rocksdb: invalid Options.Compression %v (use one of the Compression constants)", c)
}

// WALRecoveryMode chooses how Open replays a write-ahead log that holds a
// damaged record. A record is damaged when its checksum fails, typically
// because a power cut tore a write that was not synced.
//
// RocksDB's fourth mode, kSkipAnyCorruptedRecords, is deliberately not
// offered: it skips damaged records and replays the ones after them, so a
// store could hold a batch without an earlier one, which breaks the
// guarantees the event store builds on.
type WALRecoveryMode int

const (
	// WALRecoveryPointInTime stops replaying the log at the first damaged
	// record and opens the store as it was just before it. This loses only
	// writes that a power cut interrupted, plus anything after them; since
	// writes are applied in order, the store stays a consistent prefix of
	// the committed history. Batches committed with sync=true before the
	// damaged record are kept. It is the zero value and the default.
	WALRecoveryPointInTime WALRecoveryMode = iota

	// WALRecoveryAbsoluteConsistency refuses to open the store, with an
	// error wrapping backend.ErrCorrupt, when the log holds any damaged
	// record, even a torn last record left by a power cut during a write
	// with sync=false. Choose it when every write is synced and you would
	// rather repair by hand than lose anything silently.
	WALRecoveryAbsoluteConsistency

	// WALRecoveryTolerateCorruptedTail is LevelDB's behavior: it ignores
	// an incomplete record at the end of a log, and refuses to open on
	// any other damage.
	WALRecoveryTolerateCorruptedTail
)

// String returns the name of m, such as "point-in-time".
func (m WALRecoveryMode) String() string {
	switch m {
	case WALRecoveryPointInTime:
		return "point-in-time"
	case WALRecoveryAbsoluteConsistency:
		return "absolute-consistency"
	case WALRecoveryTolerateCorruptedTail:
		return "tolerate-corrupted-tail"
	}
	return fmt.Sprintf("WALRecoveryMode(%d)", int(m))
}

func (m WALRecoveryMode) native() (grocksdb.WALRecoveryMode, error) {
	switch m {
	case WALRecoveryPointInTime:
		return grocksdb.PointInTimeRecovery, nil
	case WALRecoveryAbsoluteConsistency:
		return grocksdb.AbsoluteConsistencyRecovery, nil
	case WALRecoveryTolerateCorruptedTail:
		return grocksdb.TolerateCorruptedTailRecordsRecovery, nil
	}
	return 0, fmt.Errorf("rocksdb: invalid Options.WALRecoveryMode %v (use one of the WALRecoveryMode constants)", m)
}

// optionsFrom returns a validated copy of config, an Options, an *Options
// or nil, with the defaults filled in.
func optionsFrom(config any) (Options, error) {
	var o Options
	switch c := config.(type) {
	case nil:
	case Options:
		o = c
	case *Options:
		if c != nil {
			o = *c
		}
	default:
		return Options{}, fmt.Errorf("rocksdb: unsupported Config of type %T: pass a rocksdb.Options or *rocksdb.Options", config)
	}
	o.fillDefaults()
	if err := o.validate(); err != nil {
		return Options{}, err
	}
	return o, nil
}

func (o *Options) fillDefaults() {
	if o.BlockCacheSize == 0 {
		o.BlockCacheSize = DefaultBlockCacheSize
	}
	if o.WriteBufferSize == 0 {
		o.WriteBufferSize = DefaultWriteBufferSize
	}
	if o.MaxOpenFiles == 0 {
		o.MaxOpenFiles = DefaultMaxOpenFiles
	}
}

func (o *Options) validate() error {
	if o.BlockCacheSize < 0 {
		return fmt.Errorf("rocksdb: invalid Options.BlockCacheSize %d: must not be negative", o.BlockCacheSize)
	}
	if o.WriteBufferSize < minWriteBufferSize {
		return fmt.Errorf("rocksdb: invalid Options.WriteBufferSize %d: must be 0 (default) or at least %d", o.WriteBufferSize, minWriteBufferSize)
	}
	if o.MaxOpenFiles != -1 && o.MaxOpenFiles < minMaxOpenFiles {
		return fmt.Errorf("rocksdb: invalid Options.MaxOpenFiles %d: must be 0 (default), -1 (unlimited) or at least %d", o.MaxOpenFiles, minMaxOpenFiles)
	}
	if _, err := o.Compression.native(); err != nil {
		return err
	}
	if _, err := o.WALRecoveryMode.native(); err != nil {
		return err
	}
	return nil
}

// dbOptions returns the RocksDB options for o, which must be validated. The
// caller owns the result and must Destroy it after the database it opens is
// closed.
func (o *Options) dbOptions() *grocksdb.Options {
	compression, _ := o.Compression.native()
	recovery, _ := o.WALRecoveryMode.native()

	cache := grocksdb.NewLRUCache(uint64(o.BlockCacheSize))
	defer cache.Destroy() // the table options keep their own reference

	table := grocksdb.NewDefaultBlockBasedTableOptions()
	defer table.Destroy() // the table factory copies them
	table.SetBlockCache(cache)
	if !o.DisableBloomFilter {
		filter := grocksdb.NewBloomFilterFull(bloomBitsPerKey)
		defer filter.Destroy() // no-op: SetFilterPolicy moves the policy
		table.SetFilterPolicy(filter)
	}

	opts := grocksdb.NewDefaultOptions()
	opts.SetCreateIfMissing(true)
	opts.SetParanoidChecks(!o.DisableParanoidChecks)
	opts.SetWALRecoveryMode(recovery)
	opts.SetCompression(compression)
	opts.SetWriteBufferSize(uint64(o.WriteBufferSize))
	opts.SetMaxOpenFiles(o.MaxOpenFiles)
	opts.SetKeepLogFileNum(keepInfoLogFiles)
	opts.SetBlockBasedTableFactory(table)
	return opts
}
