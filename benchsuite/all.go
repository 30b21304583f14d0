package benchsuite

import "strings"

// All returns every workload, in report order.
func All() []Workload {
	return []Workload{
		DiskSync, DiskSyncPrealloc,
		RawSync1, AppendSync1, AppendSync1NoMark, AppendSync1NoMetrics, AppendSync1SM,
		RawSync16, AppendSync16, AppendSync16NoGroup,
		RawSync64, AppendSync64,
		RawSyncBatch100, AppendSyncBatch100,
		AppendNoSync1,
		AppendSize100, AppendSize1K, AppendSize16K, AppendSize1M,
		RawScan, ReadScan, ReadStream, ReadSubscribe,
		RestartWorkload(10_000, true), RestartWorkload(100_000, true), RestartWorkload(1_000_000, true),
		RestartWorkload(10_000, false), RestartWorkload(100_000, false), RestartWorkload(1_000_000, false),
		Space,
	}
}

// Large reports whether w fills 100K events or more whatever its n: the
// restart workloads of 100K and 1M events. Short benchmark runs skip them.
func Large(w Workload) bool {
	return strings.HasSuffix(w.Name, "/100K") || strings.HasSuffix(w.Name, "/1M")
}
