// Package benchknobs holds switches that the benchmark suite turns to
// measure what a safety or observability feature costs, by running the same
// workload with and without it. The store reads them once, at Open. Nothing
// but the benchmark suite sets them; a product never should.
package benchknobs

import "sync/atomic"

// NoHeadMark makes Open skip the head mark (internal/headmark): no mark is
// read, checked or written. It exists to measure the mark's cost on a synced
// append.
var NoHeadMark atomic.Bool

// NoMetrics makes Open keep no metrics (Store.Metrics returns zeros and the
// append path updates none). It exists to measure the metrics' cost on a
// synced append.
var NoMetrics atomic.Bool
