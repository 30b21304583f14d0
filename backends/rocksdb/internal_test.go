package rocksdb

import (
	"errors"
	"strings"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/linxGnu/grocksdb"
)

func TestWrapClassifiesRocksDBErrors(t *testing.T) {
	if wrap("get", "/d", nil) != nil {
		t.Fatal("wrap(nil) must be nil")
	}
	for _, tc := range []struct {
		msg, hint string
		corrupt   bool
	}{
		{"Corruption: block checksum mismatch in /d/000009.sst", "restore the store", true},
		{"IO error: While lock file: /d/LOCK: Resource temporarily unavailable", "is another process using it?", false},
		{"IO error: lock hold by current process: /d/LOCK: No locks available", "is another process using it?", false},
		{"IO error: While appending to file: /d/000003.log: No space left on device", "is the disk full?", false},
		{"IO error: While open a file for appending: /d/LOG: Permission denied", "check the permissions", false},
		{"Invalid argument: Compression type ZSTD is not linked with the binary.", "choose another Options.Compression", false},
		{"Invalid argument: something else", "", false},
	} {
		cause := errors.New(tc.msg)
		err := wrap("get", "/d", cause)
		if !errors.Is(err, cause) {
			t.Errorf("%q: the RocksDB error is not wrapped: %v", tc.msg, err)
		}
		if errors.Is(err, backend.ErrCorrupt) != tc.corrupt {
			t.Errorf("%q: errors.Is(err, ErrCorrupt) = %v; want %v", tc.msg, !tc.corrupt, tc.corrupt)
		}
		if !strings.HasPrefix(err.Error(), "rocksdb: get /d: ") || !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("%q: message %q lacks the prefix or the hint %q", tc.msg, err, tc.hint)
		}
	}
}

func TestDBOptionsMapping(t *testing.T) {
	compressions := map[Compression]grocksdb.CompressionType{
		CompressionLZ4:    grocksdb.LZ4Compression,
		CompressionNone:   grocksdb.NoCompression,
		CompressionSnappy: grocksdb.SnappyCompression,
		CompressionZstd:   grocksdb.ZSTDCompression,
	}
	modes := map[WALRecoveryMode]grocksdb.WALRecoveryMode{
		WALRecoveryPointInTime:           grocksdb.PointInTimeRecovery,
		WALRecoveryAbsoluteConsistency:   grocksdb.AbsoluteConsistencyRecovery,
		WALRecoveryTolerateCorruptedTail: grocksdb.TolerateCorruptedTailRecordsRecovery,
	}
	for c, wantC := range compressions {
		for m, wantM := range modes {
			o, err := optionsFrom(&Options{Compression: c, WALRecoveryMode: m, DisableParanoidChecks: c == CompressionZstd})
			if err != nil {
				t.Fatal(err)
			}
			opts := o.dbOptions()
			defer opts.Destroy()
			if got := opts.GetCompression(); got != wantC {
				t.Errorf("%v: compression %v; want %v", c, got, wantC)
			}
			if got := opts.GetWALRecoveryMode(); got != wantM {
				t.Errorf("%v: WAL recovery mode %v; want %v", m, got, wantM)
			}
			if got := opts.ParanoidChecks(); got != (c != CompressionZstd) {
				t.Errorf("paranoid checks %v with DisableParanoidChecks=%v", got, c == CompressionZstd)
			}
			if !opts.CreateIfMissing() {
				t.Error("create_if_missing is off")
			}
			if got := opts.GetWriteBufferSize(); got != DefaultWriteBufferSize {
				t.Errorf("write buffer size %d; want the default %d", got, DefaultWriteBufferSize)
			}
			if got := opts.GetMaxOpenFiles(); got != DefaultMaxOpenFiles {
				t.Errorf("max open files %d; want the default %d", got, DefaultMaxOpenFiles)
			}
			if got := opts.GetKeepLogFileNum(); got != keepInfoLogFiles {
				t.Errorf("keep log file num %d; want %d", got, keepInfoLogFiles)
			}
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	o, err := optionsFrom(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{BlockCacheSize: 64 << 20, WriteBufferSize: 64 << 20, MaxOpenFiles: -1}
	if o != want {
		t.Fatalf("defaults %+v; want %+v", o, want)
	}
	o, err = optionsFrom(Options{BlockCacheSize: 1, WriteBufferSize: 1 << 20, MaxOpenFiles: 500})
	if err != nil {
		t.Fatal(err)
	}
	if o.BlockCacheSize != 1 || o.WriteBufferSize != 1<<20 || o.MaxOpenFiles != 500 {
		t.Fatalf("explicit values replaced by defaults: %+v", o)
	}
}
