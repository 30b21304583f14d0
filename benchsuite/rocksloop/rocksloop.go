// Package rocksloop holds a baseline for the RocksDB engine alone: the
// log scanned by a plain grocksdb iterator loop, as a Go user of RocksDB
// writes it (Seek, Valid, Key, Value, Free, Next), with no engine contract
// and no event store above it. It links RocksDB through cgo, which is why it
// is not in package benchsuite.
package rocksloop

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/linxGnu/grocksdb"

	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/internal/record"
)

// Engine is the engine whose directories the loop reads.
const Engine = "rocksdb"

const scanName = "raw/scan/grocksdb-loop"

// Scan fills n events through the rocksdb engine, as raw/scan does, then
// opens the directory with grocksdb itself and times one loop over the log
// keys that touches every value.
var Scan = benchsuite.Workload{
	Name: scanName, Run: scan, DefaultN: benchsuite.RawScan.DefaultN,
	EngineOnly: true, Only: []string{Engine},
}

func scan(ctx context.Context, t benchsuite.Target, n int) (benchsuite.Measurement, error) {
	if t.Backend != Engine {
		return benchsuite.Measurement{}, fmt.Errorf("rocksloop: %s reads %s directories, not %s", scanName, Engine, t.Backend)
	}
	dir, cleanup, err := t.NewDir()
	if err != nil {
		return benchsuite.Measurement{}, err
	}
	defer cleanup()
	if err := benchsuite.FillRaw(t, dir, n); err != nil {
		return benchsuite.Measurement{}, err
	}
	var start time.Time
	events, size, err := scanDir(dir, func() { start = time.Now() })
	if err != nil {
		return benchsuite.Measurement{}, err
	}
	return benchsuite.Measurement{Ops: 1, Events: events, Bytes: size, Elapsed: time.Since(start)}, ctx.Err()
}

// ScanDir opens the rocksdb directory dir with grocksdb itself and reads
// every log key with a plain iterator loop that touches every value. It
// returns the records and value bytes read.
func ScanDir(dir string) (events int, size int64, err error) { return scanDir(dir, func() {}) }

// scanDir is ScanDir, calling opened once the database is open, before the
// loop: Scan times the loop alone.
func scanDir(dir string, opened func()) (events int, size int64, err error) {
	opts := grocksdb.NewDefaultOptions()
	defer opts.Destroy()
	db, err := grocksdb.OpenDb(opts, dir)
	if err != nil {
		return 0, 0, fmt.Errorf("rocksloop: %w", err)
	}
	defer db.Close()
	ro := grocksdb.NewDefaultReadOptions()
	defer ro.Destroy()

	opened()
	lower, upper := record.LogTable()
	it := db.NewIterator(ro)
	defer it.Close()
	var sink byte
	for it.Seek(lower); it.Valid(); it.Next() {
		k := it.Key()
		if bytes.Compare(k.Data(), upper) >= 0 {
			k.Free()
			break
		}
		v := it.Value()
		b := v.Data()
		sink ^= b[len(b)-1]
		events++
		size += int64(len(b))
		k.Free()
		v.Free()
	}
	if err := it.Err(); err != nil {
		return 0, 0, fmt.Errorf("rocksloop: %w", err)
	}
	_ = sink
	return events, size, nil
}
