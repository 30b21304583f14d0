package eventstore

import (
	"testing"
	"time"
)

// BenchmarkMetricsPerAppend measures what the metrics add to one synced
// append of one event with one writer: the append's outcome and latency,
// and its group commit's counters and histograms (one commit per append, the
// worst case). Compare its ns/op with the latency of a synced append (about
// a millisecond on this machine's disk; append/sync/1-writer in the report):
// the bound is 1%, that is 10 µs.
func BenchmarkMetricsPerAppend(b *testing.B) {
	m := newStoreMetrics()
	d := 900 * time.Microsecond
	b.ReportAllocs()
	for b.Loop() {
		m.Commit(1, 1, 200, d)
		m.appended(nil, d)
	}
}
