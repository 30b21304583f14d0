package rocksdb_test

import (
	"testing"

	"github.com/durablelog/eventstore/backends/rocksdb"
	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/benchsuite/rocksloop"
)

// BenchmarkReadPath compares the store's log scan and replay with the
// engine's own iterator on the same data, in one run (see
// benchsuite.ReadPath).
func BenchmarkReadPath(b *testing.B) {
	benchsuite.ReadPath(b, benchsuite.Target{Backend: rocksdb.Name}, map[string]func(string) (int, error){"grocksdb-loop": func(dir string) (int, error) { n, _, err := rocksloop.ScanDir(dir); return n, err }})
}
