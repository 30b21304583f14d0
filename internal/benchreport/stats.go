package benchreport

import (
	"math"
	"slices"
)

// Summary describes a figure over the repeats: its median and its spread.
// The zero value (N = 0) means no data.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// Q1 and Q3 are the first and third quartiles, interpolated between
	// the closest values (as R's type 7 and numpy's default do).
	Q1 float64 `json:"q1"`
	Q3 float64 `json:"q3"`
}

// Summarize returns the summary of xs, ignoring NaNs.
func Summarize(xs []float64) Summary {
	s := slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(s) == 0 {
		return Summary{}
	}
	slices.Sort(s)
	return Summary{
		N: len(s), Median: quantile(s, 0.5), Min: s[0], Max: s[len(s)-1],
		Q1: quantile(s, 0.25), Q3: quantile(s, 0.75),
	}
}

// quantile returns the q-quantile of the sorted, non-empty s by linear
// interpolation between the closest ranks.
func quantile(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(s)-1)
	f := h - float64(lo)
	return (1-f)*s[lo] + f*s[hi]
}

// Valid reports whether s holds data.
func (s Summary) Valid() bool { return s.N > 0 }

// Spread returns the relative spread (max-min)/median, 0 without data.
func (s Summary) Spread() float64 {
	if s.N == 0 || s.Median == 0 {
		return 0
	}
	return (s.Max - s.Min) / math.Abs(s.Median)
}
