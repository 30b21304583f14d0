package benchreport

import (
	"slices"
	"strings"
)

// YardstickID is the ID of the yardstick's figures (TargetResult.ID), and
// the key of their notes.
const YardstickID = "memory-yardstick"

// YardstickMin is the yardstick's bar: a durable backend at least a tenth
// of the memory engine's rate ("less than 10× slower than in-memory").
const YardstickMin = 0.1

// EvaluateYardstick measures every backend against the memory engine, the
// yardstick: for each workload of the store in workloads (not the raw
// engine's or the disk's, nor the peak-memory ones, memory[w]) that the memory engine and a backend both ran, the backend's
// rate over the memory engine's, paired by repeat, against YardstickMin.
// It is empty when the memory engine is not among backends.
func EvaluateYardstick(samples []Sample, workloads, backends []string, memory map[string]bool) []TargetResult {
	if !slices.Contains(backends, ceilingBackend) {
		return nil
	}
	idx := indexSamples(samples)
	var out []TargetResult
	for _, w := range workloads {
		if memory[w] || strings.HasPrefix(w, "disk/") || strings.HasPrefix(w, "raw/") {
			continue
		}
		m := metric{workload: w, name: "events/s"}
		for _, b := range backends {
			if b == ceilingBackend {
				continue
			}
			vals := idx.values(m, b, m, ceilingBackend)
			if len(vals) == 0 {
				continue
			}
			t := TargetResult{
				ID: YardstickID, Title: w, Formula: w + " ÷ " + w + " (memory)", Backend: b,
				Value: Summarize(vals), Op: "≥", Threshold: YardstickMin, Unit: "×",
			}
			t.Status = judge(t.Value, t.Op, t.Threshold)
			out = append(out, t)
		}
	}
	return out
}
