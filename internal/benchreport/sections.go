package benchreport

import (
	"fmt"
	"slices"
	"strings"
)

// limitChartFile is the chart of the section "Against the physical limit",
// which that section shows rather than the section "Charts".
const limitChartFile = "limit.png"

// loadBanner warns, at the top of the report, that its figures were taken
// under load: when the run was forced to start on a busy machine, or when
// the load rose above the limit during it.
func (r *Report) loadBanner(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	above, total := r.runsAboveLimit()
	switch {
	case r.Load.Forced:
		p("> **⚠ TAKEN UNDER LOAD: these figures do not measure the store alone.** The 1-minute load average was %.2f when the run started (5 and 15 minutes: %.2f, %.2f), above the limit of %.2f, and the run was forced to start anyway (`--force` or `BENCH_FORCE=1`). %d of its %d runs started above the limit. Other work competed for the CPU and the disk: the ratios are less wrong than the rates, but run `make bench` again on a quiet machine before quoting any figure.\n\n",
			r.Load.AtStart[0], r.Load.AtStart[1], r.Load.AtStart[2], r.Load.Limit, above, total)
	case above > 0:
		p("> **⚠ The load rose during the run**: %d of its %d runs started with the 1-minute load average above %.2f, the start limit of %.2f plus the benchmark's own share of one per core (see \"Load during the run\"). Their figures measure other work too.\n\n", above, total, r.runLimit(), r.Load.Limit)
	}
}

// runLimit is the 1-minute load average above which a run, once the
// benchmark has started, measures other work too: the start limit plus
// one per core. The benchmark's own threads count in the load average
// while they run or wait in fsync, and so do the PostgreSQL server it
// starts and the engines' background threads; on an otherwise quiet
// machine they hold it at about one per core.
func (r *Report) runLimit() float64 {
	return r.Load.Limit + float64(max(r.Machine.Cores, 1))
}

// runsAboveLimit counts the runs that started with the 1-minute load above
// runLimit, and all runs.
func (r *Report) runsAboveLimit() (above, total int) {
	for _, s := range r.Samples {
		total++
		if r.Load.Limit > 0 && s.LoadBefore[0] > r.runLimit() {
			above++
		}
	}
	return above, total
}

// notesList lists the missed targets with their explanations, and the
// notes of the others.
func (r *Report) notesList(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	var missed, other []TargetResult
	for _, t := range r.Targets {
		switch {
		case t.Status == StatusFail:
			missed = append(missed, t)
		case t.Note != "":
			other = append(other, t)
		}
	}
	if len(missed) > 0 {
		p("### Missed targets\n\n")
		for _, t := range missed {
			p("- **%s on %s** (%s, target %s %s): %s\n", t.ID, t.Backend, formatValue(t.Value.Median, t.Unit), t.Op, formatValue(t.Threshold, t.Unit), noteOrPlaceholder(t))
		}
		p("\n")
	}
	if len(other) > 0 {
		p("### Notes\n\n")
		for _, t := range other {
			p("- **%s on %s**: %s\n", t.ID, t.Backend, t.Note)
		}
		p("\n")
	}
}

// noteOrPlaceholder returns the target's note, or says where to write one.
func noteOrPlaceholder(t TargetResult) string {
	if t.Note != "" {
		return t.Note
	}
	return fmt.Sprintf("*no explanation yet: write one under %q in internal/benchreport/notes.json, then `eventstore bench --rewrite`.*", t.ID)
}

// limitSection compares every backend and peer with the physical limit.
func (r *Report) limitSection(b *strings.Builder) {
	if len(r.Limit) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Against the physical limit\n\n")
	p("Each workload's rate over the physical limit's, measured in the same repeat: 1.00× is the disk's limit, the most any durable store can do here. The limit (`disk`) is a log written by hand over a preallocated file: an 8-byte frame (length, CRC-32C) and the data per event, concurrent appends sharing one pwrite and one fdatasync, a scan or restart being one sequential read of the file. The peers are what a Go user would write instead of this store:\n\n")
	peerText := map[string]string{
		"sqlite-events": "an events table in SQLite (mattn/go-sqlite3): `events(position INTEGER PRIMARY KEY, stream, version, type, data, UNIQUE(stream, version))`, WAL mode, synchronous=FULL, one transaction per append with the expected-version check in the INSERT, writers queued for its one connection;",
		"bbolt":         "go.etcd.io/bbolt: a bucket for the global log and one per stream, one Update transaction per append (bbolt fsyncs every commit and admits one writer at a time);",
		"tidwall-wal":   "github.com/tidwall/wal, an append-only log library synced on every write: no streams and no concurrency control, the upper bound of the simple approach;",
		"pgx":           "plain pgx against the postgres backend's server: 16 connections each doing BEGIN, INSERT of one 200-byte row, COMMIT in a loop; one connection inserting 100 rows per statement for the appends of 100.",
	}
	for _, name := range r.Peers {
		if t, ok := peerText[name]; ok {
			p("- `%s`: %s\n", name, t)
		}
	}
	p("\nA restart, for the disk and the peers, is what their user does to rebuild his state: open, and read every event. Median of the per-repeat ratios, range in brackets.\n\n")
	if slices.Contains(r.Files, limitChartFile) {
		p("![Against the physical limit](%s)\n\n", limitChartFile)
	}
	var cols []string
	for _, c := range r.columns() {
		if c != DiskBackend && slices.ContainsFunc(r.Limit, func(x Ratio) bool { return x.Backend == c }) {
			cols = append(cols, c)
		}
	}
	p("| workload | disk limit, events/s |")
	for _, c := range cols {
		p(" %s |", c)
	}
	p("\n|---|---:|")
	for range cols {
		p("---:|")
	}
	p("\n")
	for _, w := range r.limitWorkloads() {
		res, _ := r.result(w, DiskBackend)
		p("| %s | %s |", w, withSpread(formatNum(res.EventsPerSec.Median), res.EventsPerSec, ""))
		for _, c := range cols {
			v, ok := r.limitRatio(w, c)
			if !ok {
				p(" |")
				continue
			}
			p(" %s |", withSpread(formatValue(v.Median, "×"), v, "×"))
		}
		p("\n")
	}
	p("\n")
}

// yardstickSection gives every backend's rate over the memory engine's.
func (r *Report) yardstickSection(b *strings.Builder) {
	if len(r.Yardstick) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## The memory engine as the yardstick\n\n")
	p("Each backend's rate over the memory engine's on the same workload, in the same repeat (median and range). The seed's bar: a durable store less than 10× slower than in-memory, that is at least %.2f×; **FAIL** marks a figure below it.\n\n", YardstickMin)
	var cols, ws []string
	for _, y := range r.Yardstick {
		if !slices.Contains(cols, y.Backend) {
			cols = append(cols, y.Backend)
		}
		if !slices.Contains(ws, y.Title) {
			ws = append(ws, y.Title)
		}
	}
	p("| workload |")
	for _, c := range cols {
		p(" %s |", c)
	}
	p("\n|---|")
	for range cols {
		p("---:|")
	}
	p("\n")
	var notes []string
	for _, w := range ws {
		p("| %s |", w)
		for _, c := range cols {
			i := slices.IndexFunc(r.Yardstick, func(y TargetResult) bool { return y.Title == w && y.Backend == c })
			if i < 0 {
				p(" |")
				continue
			}
			y := r.Yardstick[i]
			cell := withSpread(formatValue(y.Value.Median, "×"), y.Value, "×")
			if y.Status == StatusFail {
				cell += " **FAIL**"
			}
			p(" %s |", cell)
			if y.Note != "" && !slices.Contains(notes, y.Note) {
				notes = append(notes, y.Note)
			}
		}
		p("\n")
	}
	p("\n")
	for _, n := range notes {
		p("> %s\n\n", n)
	}
}

// loadSection gives the load around the runs of each workload.
func (r *Report) loadSection(b *strings.Builder) {
	if len(r.Samples) == 0 || r.Load.Limit == 0 { // none, or a report from before the load was recorded
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	above, total := r.runsAboveLimit()
	p("## Load during the run\n\n")
	p("The load averages (1, 5 and 15 minutes, /proc/loadavg) just before and just after each run, over all the runs of a workload (every backend and repeat): median, and the maximum in brackets. %d of %d runs started with the 1-minute load above %.2f, the start limit of %.2f plus the benchmark's own share of one per core. Each run's figures are in results.json (`load_before`, `load_after`).\n\n", above, total, r.runLimit(), r.Load.Limit)
	p("| workload | runs | 1 min before | 1 min after | 5 min before | 15 min before | runs above the limit |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, w := range r.Workloads {
		var b1, a1, b5, b15 []float64
		n := 0
		for _, s := range r.Samples {
			if s.Workload != w {
				continue
			}
			b1, a1 = append(b1, s.LoadBefore[0]), append(a1, s.LoadAfter[0])
			b5, b15 = append(b5, s.LoadBefore[1]), append(b15, s.LoadBefore[2])
			if r.Load.Limit > 0 && s.LoadBefore[0] > r.runLimit() {
				n++
			}
		}
		if len(b1) == 0 {
			continue
		}
		f := func(xs []float64) string {
			s := Summarize(xs)
			return fmt.Sprintf("%.2f [%.2f]", s.Median, s.Max)
		}
		p("| %s | %d | %s | %s | %s | %s | %d |\n", w, len(b1), f(b1), f(a1), f(b5), f(b15), n)
	}
	p("\n")
}
