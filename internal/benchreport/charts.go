package benchreport

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/durablelog/eventstore/benchsuite"
)

// chart is a chart of the report: its file, title and caption, and the
// method that draws it (nil when the report has no data for it).
type chart struct {
	file, title, caption string
	draw                 func(*Report) (*plot.Plot, vg.Length, vg.Length, error)
}

// charts are the charts a report may have, in report order.
var charts = []chart{
	{"limit.png", "Against the physical limit", "For each workload, the rate of the event store on each backend and of each peer, over the physical limit's (a hand-written log over a preallocated file: one pwrite and one fdatasync per group of concurrent appends; a sequential read): 1 is the disk's limit. Median of the per-repeat ratios, log scale. The memory engine, which has no disk to wait for, is in the table only.", (*Report).limitChart},
	{"throughput-append.png", "Append throughput", "Events per second, median over the repeats, log scale: the disk and raw-engine baselines and the event store's appends.", (*Report).appendThroughputChart},
	{"throughput-read.png", "Read throughput", "Events per second, median over the repeats, log scale: the raw engine's ordered scan, the event store's reads, and the replay of a restart without snapshots.", (*Report).readThroughputChart},
	{"latency.png", "Append latency", "Per-append latency, median over the repeats of each run's p50 (dark) and p99 (light), log scale.", (*Report).latencyChart},
	{"restart.png", "Restart time against log length", "Open with a state machine: the median over the repeats of each run's median Open, log-log; snapshots every 1000 events (solid) and none (dashed).", (*Report).restartChart},
	{"space.png", "Bytes on disk per event", "Engine directory size over events (200-byte payloads), after Close and after a full compaction.", (*Report).spaceChart},
	{"snapshots-restart.png", "ADR-0009: restart time against snapshot interval", "Open of a log written with each policy, median over the repeats, log-log. Lines: EveryN(N) at x = N; triangles: Adaptive at the interval it chose while the log was written (fill-events/snapshot); crosses: Never, at x = the log's length.", (*Report).snapshotRestartChart},
	{"snapshots-overhead.png", "ADR-0009: append overhead against snapshot interval", "The append overhead that snapshots cost 16 synced writers, in %, estimated from two measured figures: the cost of one durable snapshot (snapshot-ms, median over the engine's runs) divided by the interval, over the time per event of the same writers with the policy Never. Lines: EveryN(N); triangles: Adaptive at the interval it chose while the log was written. The slowdown measured directly, run against run, is in the section's last table: on this loaded machine its noise is far larger than the effect.", (*Report).snapshotOverheadChart},
	{"memory.png", "Peak resident memory", "Peak RSS of a child process during the measured part of each workload (VmHWM), median over the repeats.", (*Report).memoryChart},
}

// series is a named row of values, one per category, drawn in color
// (when nil, the palette's color of the series' index).
type series struct {
	label  string
	values []float64
	color  color.Color
}

// diskColor draws the disk baselines; engines take the palette's colors in
// the order of Report.Backends, the same in every chart.
var diskColor = color.Gray{Y: 110}

// writeCharts draws the charts that have data, writes them into dir,
// removes those that have none (left by an earlier report), and returns
// the file names written.
func (r *Report) writeCharts(dir string) ([]string, error) {
	var files []string
	for _, c := range charts {
		p, w, h, err := c.draw(r)
		if err != nil {
			return nil, fmt.Errorf("benchreport: chart %s: %w", c.file, err)
		}
		if p == nil {
			if err := os.Remove(filepath.Join(dir, c.file)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("benchreport: %w", err)
			}
			continue
		}
		wt, err := p.WriterTo(w, h, "png")
		if err != nil {
			return nil, fmt.Errorf("benchreport: chart %s: %w", c.file, err)
		}
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("benchreport: chart %s: %w", c.file, err)
		}
		if err := writeFile(dir, c.file, buf.Bytes()); err != nil {
			return nil, err
		}
		files = append(files, c.file)
	}
	return files, nil
}

// workloadsWith returns the report's workloads that keep accepts.
func (r *Report) workloadsWith(keep func(string) bool) []string {
	var ws []string
	for _, w := range r.Workloads {
		if keep(w) {
			ws = append(ws, w)
		}
	}
	return ws
}

func hasPrefix(prefixes ...string) func(string) bool {
	return func(w string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(w, p) })
	}
}

// backendSeries returns one series per backend (and the disk, when
// withDisk) of fig over workloads; nil when no value is positive.
func (r *Report) backendSeries(workloads []string, withDisk bool, fig func(Result) float64) []series {
	backends := r.Backends
	if withDisk {
		backends = append([]string{DiskBackend}, backends...)
	}
	var out []series
	anyData := false
	for _, b := range backends {
		s := series{label: b, values: make([]float64, len(workloads)), color: diskColor}
		if i := slices.Index(r.Backends, b); i >= 0 {
			s.color = plotutil.Color(i)
		}
		has := false
		for i, w := range workloads {
			if res, ok := r.result(w, b); ok {
				s.values[i] = fig(res)
				has = has || s.values[i] > 0
			}
		}
		if has || b != DiskBackend {
			out = append(out, s)
		}
		anyData = anyData || has
	}
	if !anyData {
		return nil
	}
	return out
}

func medianRate(res Result) float64 { return res.EventsPerSec.Median }

func (r *Report) appendThroughputChart() (*plot.Plot, vg.Length, vg.Length, error) {
	ws := r.workloadsWith(func(w string) bool {
		return hasPrefix("disk/", "raw/sync-write/", "append/")(w) && !r.Memory[w]
	})
	ss := r.backendSeries(ws, true, medianRate)
	if ss == nil {
		return nil, 0, 0, nil
	}
	return groupedBars("Append throughput (events/s, log scale)", "events/s", ws, ss, true)
}

func (r *Report) readThroughputChart() (*plot.Plot, vg.Length, vg.Length, error) {
	ws := r.workloadsWith(hasPrefix("raw/scan", "read/", "restart/no-snapshots/"))
	ss := r.backendSeries(ws, false, medianRate)
	if ss == nil {
		return nil, 0, 0, nil
	}
	labels := slices.Clone(ws)
	for i, w := range labels {
		if strings.HasPrefix(w, "restart/") {
			labels[i] = w + " (replay)"
		}
	}
	return groupedBars("Read throughput (events/s, log scale)", "events/s", labels, ss, true)
}

func (r *Report) latencyChart() (*plot.Plot, vg.Length, vg.Length, error) {
	ws := r.workloadsWith(func(w string) bool {
		return hasPrefix("disk/", "raw/sync-write/", "append/")(w) && !r.Memory[w]
	})
	p99 := r.backendSeries(ws, true, func(res Result) float64 { return res.P99us.Median })
	p50 := r.backendSeries(ws, true, func(res Result) float64 { return res.P50us.Median })
	if p99 == nil {
		return nil, 0, 0, nil
	}
	return groupedBars("Append latency (µs, log scale): p50 dark, p99 light", "µs", ws, p99, true, p50...)
}

// groupedBars draws one group of bars per category, one bar per series.
// With logY the values are drawn on a log scale. overlay, when given, has
// series drawn over the first ones, in a darker shade (p50 over p99).
func groupedBars(title, ylabel string, cats []string, ss []series, logY bool, overlay ...series) (*plot.Plot, vg.Length, vg.Length, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	barW := vg.Points(7)
	if len(ss) <= 2 {
		barW = vg.Points(18)
	}
	tr := func(v float64) float64 { return v }
	if logY {
		var all []float64
		for _, s := range append(slices.Clone(ss), overlay...) {
			all = append(all, s.values...)
		}
		var ticks plot.ConstantTicks
		tr, ticks = logTransform(all)
		p.Y.Tick.Marker = ticks
		p.Y.Min = 0
	}
	for j, s := range ss {
		vals := make(plotter.Values, len(s.values))
		for i, v := range s.values {
			vals[i] = tr(v)
		}
		bars, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return nil, 0, 0, err
		}
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(j)-float64(len(ss)-1)/2) * barW
		c := s.color
		if c == nil {
			c = plotutil.Color(j)
		}
		if len(overlay) > 0 {
			c = lighten(c)
		}
		bars.Color = c
		p.Add(bars)
		if len(overlay) == 0 {
			p.Legend.Add(s.label, bars)
		}
	}
	for j, s := range overlay {
		vals := make(plotter.Values, len(s.values))
		for i, v := range s.values {
			vals[i] = tr(v)
		}
		bars, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return nil, 0, 0, err
		}
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(j)-float64(len(ss)-1)/2) * barW
		bars.Color = s.color
		if bars.Color == nil {
			bars.Color = plotutil.Color(j)
		}
		p.Add(bars)
		p.Legend.Add(s.label, bars)
	}
	p.NominalX(cats...)
	p.X.Tick.Label.Rotation = math.Pi / 2
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.X.Min, p.X.Max = -0.5, float64(len(cats))-0.5
	// Room above the bars for the legend, one line per entry.
	entries := len(ss) + len(overlay)
	if logY {
		p.Y.Max += 0.25 * float64(entries)
	} else {
		p.Y.Max *= 1 + 0.1*float64(entries)
	}
	p.Legend.Top = true
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	w := max(6*vg.Inch, vg.Length(len(cats))*(vg.Length(len(ss))*barW+vg.Points(14))+vg.Inch)
	return p, w, 6 * vg.Inch, nil
}

// logTransform maps values onto a log scale whose 0 is the decade below
// the smallest positive value, and returns the ticks labelled in the
// values' units. Values of 0 or less map to 0.
func logTransform(vs []float64) (func(float64) float64, plot.ConstantTicks) {
	lo, hi := math.Inf(1), 0.0
	for _, v := range vs {
		if v > 0 {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi == 0 {
		lo, hi = 1, 10
	}
	base := math.Floor(math.Log10(lo))
	top := math.Ceil(math.Log10(hi))
	if top <= base {
		top = base + 1
	}
	tr := func(v float64) float64 {
		if v <= 0 {
			return 0
		}
		return math.Log10(v) - base
	}
	var ticks plot.ConstantTicks
	for k := base; k <= top; k++ {
		ticks = append(ticks, plot.Tick{Value: k - base, Label: formatNum(math.Pow(10, k))})
		if k < top {
			for m := 2.0; m < 10; m++ {
				ticks = append(ticks, plot.Tick{Value: k - base + math.Log10(m)})
			}
		}
	}
	return tr, ticks
}

// logTicks labels a log axis at each decade with formatNum.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 {
		lo = 1e-3
	}
	if hi <= lo {
		hi = lo * 10
	}
	var ticks []plot.Tick
	for k := math.Floor(math.Log10(lo)); k <= math.Ceil(math.Log10(hi)); k++ {
		v := math.Pow(10, k)
		ticks = append(ticks, plot.Tick{Value: v, Label: formatNum(v)})
		for m := 2.0; m < 10; m++ {
			ticks = append(ticks, plot.Tick{Value: m * v})
		}
	}
	return ticks
}

func lighten(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	f := func(x uint32) uint8 { return uint8((x>>8)/2 + 128) }
	return color.RGBA{R: f(r), G: f(g), B: f(b), A: 255}
}

// parseCount reads the "10K", "1M" suffix of a workload name.
func parseCount(s string) (float64, bool) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mult, s = 1e3, strings.TrimSuffix(s, "K")
	}
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil || v <= 0 {
		return 0, false
	}
	return v * mult, true
}

func lastSegment(w string) string { return w[strings.LastIndexByte(w, '/')+1:] }

func (r *Report) restartChart() (*plot.Plot, vg.Length, vg.Length, error) {
	p := plot.New()
	p.Title.Text = "Restart time against log length"
	p.X.Label.Text = "events in the log"
	p.Y.Label.Text = "Open, ms"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
	drawn := false
	for j, b := range r.Backends {
		var first *plotter.Line
		for k, kind := range []string{"every-1000", "no-snapshots"} {
			var pts plotter.XYs
			for _, w := range r.workloadsWith(hasPrefix("restart/" + kind + "/")) {
				n, ok := parseCount(lastSegment(w))
				res, found := r.result(w, b)
				if !ok || !found || res.P50us.Median <= 0 {
					continue
				}
				pts = append(pts, plotter.XY{X: n, Y: res.P50us.Median / 1000})
			}
			if len(pts) == 0 {
				continue
			}
			slices.SortFunc(pts, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
			l, s, err := plotter.NewLinePoints(pts)
			if err != nil {
				return nil, 0, 0, err
			}
			l.Color, s.Color = plotutil.Color(j), plotutil.Color(j)
			s.Shape = plotutil.Shape(j)
			if k == 1 {
				l.Dashes = plotutil.Dashes(2)
			}
			p.Add(l, s)
			if first == nil {
				first = l
				p.Legend.Add(b, l, s)
			}
			drawn = true
		}
	}
	if !drawn {
		return nil, 0, 0, nil
	}
	for k, label := range []string{"snapshots every 1000", "no snapshots"} {
		l, err := plotter.NewLine(plotter.XYs{{X: 1, Y: 1}})
		if err != nil {
			return nil, 0, 0, err
		}
		if k == 1 {
			l.Dashes = plotutil.Dashes(2)
		}
		p.Legend.Add(label, l)
	}
	legendRoom(p, true, 6)
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	return p, 7 * vg.Inch, 5 * vg.Inch, nil
}

// legendRoom raises the top of the Y axis so that a legend of entries
// lines fits above the data.
func legendRoom(p *plot.Plot, logY bool, entries int) {
	f := min(0.5, 0.035*float64(entries))
	if logY {
		if p.Y.Min > 0 && p.Y.Max > p.Y.Min {
			p.Y.Max = p.Y.Max * math.Pow(p.Y.Max/p.Y.Min, f/(1-f))
		}
		return
	}
	p.Y.Max += (p.Y.Max - p.Y.Min) * f / (1 - f)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (r *Report) spaceChart() (*plot.Plot, vg.Length, vg.Length, error) {
	var closed, compacted series
	closed.label, compacted.label = "after Close", "after compaction"
	closed.color, compacted.color = color.RGBA{R: 60, G: 60, B: 60, A: 255}, color.RGBA{R: 170, G: 170, B: 170, A: 255}
	has := false
	for _, b := range r.Backends {
		res, _ := r.result(benchsuite.Space.Name, b)
		closed.values = append(closed.values, res.Extra["bytes/event"].Median)
		compacted.values = append(compacted.values, res.Extra["bytes/event-compacted"].Median)
		has = has || res.Extra["bytes/event"].Median > 0
	}
	if !has {
		return nil, 0, 0, nil
	}
	p, w, h, err := groupedBars("Bytes on disk per event (200-byte payload)", "bytes/event", r.Backends, []series{closed, compacted}, false)
	if err != nil {
		return nil, 0, 0, err
	}
	payload, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: benchsuite.EventSize}, {X: float64(len(r.Backends)) - 0.5, Y: benchsuite.EventSize}})
	if err != nil {
		return nil, 0, 0, err
	}
	payload.Dashes = plotutil.Dashes(2)
	p.Add(payload)
	p.Legend.Add("payload", payload)
	p.X.Tick.Label.Rotation = 0
	p.X.Tick.Label.XAlign = draw.XCenter
	p.X.Tick.Label.YAlign = draw.YTop
	return p, w, h, nil
}

// sweepPoint is one policy of the snapshot sweep on one backend.
type sweepPoint struct {
	policy   string  // "never", "every-100", "adaptive-10ms"
	interval float64 // N, or the interval the policy chose, 0 when unknown
	openMs   float64
	overhead Summary // append slowdown against Never, in %, measured
	// estimate is the append overhead in % that the cost of one snapshot
	// implies: snapshot cost / interval / (time per event with Never).
	estimate float64
	rate     Summary
	replayed float64
	adaptive bool
}

// sweep returns the snapshot sweep's points of backend b.
func (r *Report) sweep(b string) []sweepPoint {
	ws := r.workloadsWith(hasPrefix("snapshots/"))
	var never string
	for _, w := range ws {
		if strings.HasPrefix(w, "snapshots/never/") {
			never = w
		}
	}
	// The cost of one snapshot does not depend on the policy: pool it.
	var costs []float64
	for _, s := range r.Samples {
		if v, ok := s.Extra["snapshot-ms"]; ok && s.Backend == b && s.Err == "" && slices.Contains(ws, s.Workload) {
			costs = append(costs, v)
		}
	}
	cost := Summarize(costs).Median
	neverRate := 0.0
	if res, ok := r.result(never, b); ok {
		neverRate = res.EventsPerSec.Median
	}
	var pts []sweepPoint
	for _, w := range ws {
		res, ok := r.result(w, b)
		if !ok {
			continue
		}
		parts := strings.Split(w, "/")
		if len(parts) != 3 {
			continue
		}
		pt := sweepPoint{policy: parts[1], openMs: res.Extra["open-ms"].Median, rate: res.EventsPerSec, replayed: res.Extra["replayed-events"].Median}
		switch {
		case strings.HasPrefix(pt.policy, "every-"):
			_, _ = fmt.Sscan(strings.TrimPrefix(pt.policy, "every-"), &pt.interval)
		case strings.HasPrefix(pt.policy, "adaptive-"):
			pt.adaptive = true
			pt.interval = res.Extra["fill-events/snapshot"].Median
			if pt.interval == 0 {
				pt.interval = res.Extra["events/snapshot"].Median
			}
		case pt.policy == "never":
			if n, ok := parseCount(parts[2]); ok {
				pt.interval = float64(benchsuite.SweepEvents(int(n)))
			}
		}
		if never != "" && w != never {
			pt.overhead = r.pairedRatio(w, never, b, func(x float64) float64 { return 100 * (1 - x) })
			if pt.interval > 0 {
				pt.estimate = 100 * cost / 1000 / pt.interval * neverRate
			}
		}
		pts = append(pts, pt)
	}
	return pts
}

// pairedRatio summarizes, over the repeats, fn(rate of num / rate of den)
// on backend b.
func (r *Report) pairedRatio(num, den, b string, fn func(float64) float64) Summary {
	rates := map[[2]string]map[int]float64{}
	for _, s := range r.Samples {
		if s.Backend != b || s.Err != "" || s.EventsPerSec <= 0 || (s.Workload != num && s.Workload != den) {
			continue
		}
		k := [2]string{s.Workload, s.Backend}
		if rates[k] == nil {
			rates[k] = map[int]float64{}
		}
		rates[k][s.Repeat] = s.EventsPerSec
	}
	var vs []float64
	for rep, n := range rates[[2]string{num, b}] {
		if d, ok := rates[[2]string{den, b}][rep]; ok {
			vs = append(vs, fn(n/d))
		}
	}
	return Summarize(vs)
}

// sweepLength returns the length label of the sweep's workloads, "1M".
func (r *Report) sweepLength() string {
	for _, w := range r.workloadsWith(hasPrefix("snapshots/")) {
		return lastSegment(w)
	}
	return ""
}

func (r *Report) snapshotRestartChart() (*plot.Plot, vg.Length, vg.Length, error) {
	return r.sweepChart("ADR-0009: restart of a "+r.sweepLength()+"-event log against snapshot interval", "Open, ms", true,
		func(pt sweepPoint) float64 { return pt.openMs }, true)
}

func (r *Report) snapshotOverheadChart() (*plot.Plot, vg.Length, vg.Length, error) {
	return r.sweepChart("ADR-0009: append overhead against snapshot interval (16 writers, Sync)", "overhead, % (log scale)", true,
		func(pt sweepPoint) float64 { return pt.estimate }, false)
}

// sweepChart draws fig against the snapshot interval, per backend.
func (r *Report) sweepChart(title, ylabel string, logY bool, fig func(sweepPoint) float64, withNever bool) (*plot.Plot, vg.Length, vg.Length, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "events between snapshots"
	p.Y.Label.Text = ylabel
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	if logY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	drawn := false
	ok := func(pt sweepPoint) bool {
		v := fig(pt)
		return pt.interval > 0 && !math.IsNaN(v) && (!logY || v > 0) && (pt.policy != "never" || withNever)
	}
	glyphs := []struct {
		shape draw.GlyphDrawer
		label string
	}{{draw.CircleGlyph{}, "EveryN(N)"}, {draw.PyramidGlyph{}, "Adaptive"}, {draw.CrossGlyph{}, "Never"}}
	used := make([]bool, len(glyphs))
	for j, b := range r.Backends {
		var line plotter.XYs
		marks := make([]plotter.XYs, len(glyphs))
		for _, pt := range r.sweep(b) {
			if !ok(pt) {
				continue
			}
			xy := plotter.XY{X: pt.interval, Y: fig(pt)}
			switch {
			case pt.adaptive:
				marks[1] = append(marks[1], xy)
			case pt.policy == "never":
				marks[2] = append(marks[2], xy)
			default:
				line = append(line, xy)
				marks[0] = append(marks[0], xy)
			}
		}
		var entry plot.Thumbnailer
		if len(line) > 0 {
			slices.SortFunc(line, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
			l, err := plotter.NewLine(line)
			if err != nil {
				return nil, 0, 0, err
			}
			l.Color = plotutil.Color(j)
			p.Add(l)
			entry = l
		}
		for g, pts := range marks {
			if len(pts) == 0 {
				continue
			}
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, 0, 0, err
			}
			s.Color, s.Shape, s.Radius = plotutil.Color(j), glyphs[g].shape, vg.Points(3.5)
			p.Add(s)
			used[g] = true
			if entry == nil {
				entry = s
			}
		}
		if entry != nil {
			p.Legend.Add(b, entry)
			drawn = true
		}
	}
	if !drawn {
		return nil, 0, 0, nil
	}
	entries := len(r.Backends)
	for g, gl := range glyphs {
		if !used[g] {
			continue
		}
		s, err := plotter.NewScatter(plotter.XYs{{X: 1, Y: 1}})
		if err != nil {
			return nil, 0, 0, err
		}
		s.Shape, s.Radius = gl.shape, vg.Points(3.5)
		p.Legend.Add(gl.label, s)
		entries++
	}
	legendRoom(p, logY, entries)
	p.X.Min, p.X.Max = p.X.Min/1.5, p.X.Max*1.5
	p.Legend.Top, p.Legend.Left = true, logY
	p.Add(plotter.NewGrid())
	return p, 7 * vg.Inch, 5 * vg.Inch, nil
}

func (r *Report) memoryChart() (*plot.Plot, vg.Length, vg.Length, error) {
	var ws []string
	for _, w := range r.Workloads {
		if r.Memory[w] {
			ws = append(ws, w)
		}
	}
	ss := r.backendSeries(ws, false, peakRSS)
	if ss == nil {
		return nil, 0, 0, nil
	}
	return groupedBars("Peak resident memory (MiB)", "MiB", ws, ss, false)
}

// peakRSS is the peak RSS of the measured part when the workload reports
// it, else the child process's.
func peakRSS(res Result) float64 {
	if s, ok := res.Extra["peak-rss-mib"]; ok && s.Median > 0 {
		return s.Median
	}
	return res.PeakRSSMiB.Median
}
