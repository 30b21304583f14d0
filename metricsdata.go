package eventstore

import (
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// Histogram is a snapshot of a distribution with fixed buckets, in the
// manner of a Prometheus histogram.
type Histogram struct {
	// Bounds are the buckets' inclusive upper bounds, ascending; a last,
	// implicit bucket holds everything above the last bound.
	Bounds []float64
	// Counts holds, for each bound, the number of observations at or
	// below it (cumulative, as Prometheus counts), without the implicit
	// last bucket: Count includes it.
	Counts []uint64
	// Count is the number of observations.
	Count uint64
	// Sum is the sum of the observations.
	Sum float64
}

// Quantile estimates the q-quantile (0 <= q <= 1) by linear interpolation
// within its bucket, as PromQL's histogram_quantile does; NaN when empty.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 {
		return math.NaN()
	}
	rank := q * float64(h.Count)
	lower, below := 0.0, uint64(0)
	for i, c := range h.Counts {
		if float64(c) >= rank {
			if c == below {
				return h.Bounds[i]
			}
			return lower + (h.Bounds[i]-lower)*(rank-float64(below))/float64(c-below)
		}
		lower, below = h.Bounds[i], c
	}
	if len(h.Bounds) == 0 {
		return math.NaN()
	}
	return h.Bounds[len(h.Bounds)-1]
}

// Bucket bounds of the store's histograms.
var (
	// durationBounds, in seconds: 50 µs to about 10 s, for appends, commits
	// and snapshots.
	durationBounds = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	// countBounds: events or appends per group commit, subscriber lags.
	countBounds = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536}
	// sizeBounds, in bytes: snapshot sizes from 1 KiB to 4 GiB.
	sizeBounds = []float64{1 << 10, 16 << 10, 256 << 10, 1 << 20, 16 << 20, 256 << 20, 1 << 30, 4 << 30}
)

// histogram is a live histogram with fixed bounds and atomic updates.
type histogram struct {
	bounds []float64
	counts []atomic.Uint64 // per bucket (not cumulative), one more than bounds
	sum    atomic.Uint64   // float64 bits
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// observe records v.
func (h *histogram) observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v)
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// observeDuration records d in seconds.
func (h *histogram) observeDuration(d time.Duration) { h.observe(d.Seconds()) }

// snapshot returns the histogram's current state.
func (h *histogram) snapshot() Histogram {
	out := Histogram{Bounds: h.bounds, Counts: make([]uint64, len(h.bounds)), Sum: math.Float64frombits(h.sum.Load())}
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		if i < len(h.bounds) {
			out.Counts[i] = cum
		}
	}
	out.Count = cum
	return out
}
