package benchreport

import (
	"image/color"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Ratio is a figure of one backend or peer over another's, paired by
// repeat: its median and range.
type Ratio struct {
	Workload string  `json:"workload"`
	Backend  string  `json:"backend"`
	Value    Summary `json:"value"`
}

// limitRatios returns, for every workload that the physical limit (the
// disk peer) ran, besides the disk's own baselines, the rate of each
// backend and peer over the limit's, in report order.
func (r *Report) limitRatios() []Ratio {
	idx := indexSamples(r.Samples)
	var out []Ratio
	for _, w := range r.limitWorkloads() {
		m := metric{workload: w, name: "events/s"}
		for _, b := range r.columns() {
			if b == DiskBackend {
				continue
			}
			if vals := idx.values(m, b, m, DiskBackend); len(vals) > 0 {
				out = append(out, Ratio{Workload: w, Backend: b, Value: Summarize(vals)})
			}
		}
	}
	return out
}

// limitWorkloads lists the workloads measured on the physical limit.
func (r *Report) limitWorkloads() []string {
	return r.workloadsWith(func(w string) bool {
		if strings.HasPrefix(w, "disk/") {
			return false
		}
		res, ok := r.result(w, DiskBackend)
		return ok && res.Runs > 0
	})
}

// limitRatio returns the ratio of b over the limit on w.
func (r *Report) limitRatio(w, b string) (Summary, bool) {
	i := slices.IndexFunc(r.Limit, func(x Ratio) bool { return x.Workload == w && x.Backend == b })
	if i < 0 {
		return Summary{}, false
	}
	return r.Limit[i].Value, true
}

// peerPalette colours the peers, after the backends' palette.
var peerPalette = []color.Color{
	color.RGBA{R: 140, G: 86, B: 75, A: 255},
	color.RGBA{R: 188, G: 189, B: 34, A: 255},
	color.RGBA{R: 23, G: 190, B: 207, A: 255},
	color.RGBA{R: 227, G: 119, B: 194, A: 255},
	color.RGBA{R: 80, G: 80, B: 80, A: 255},
}

// colorOf returns the colour of a backend or peer, the same in every chart.
func (r *Report) colorOf(name string) color.Color {
	if name == DiskBackend {
		return diskColor
	}
	if i := slices.Index(r.Backends, name); i >= 0 {
		return plotutil.Color(i)
	}
	j := 0
	for _, p := range r.Peers {
		if p == DiskBackend {
			continue
		}
		if p == name {
			return peerPalette[j%len(peerPalette)]
		}
		j++
	}
	return diskColor
}

// limitChart draws, for each workload measured on the physical limit, a
// bar per durable backend and peer (not the memory engine, which has no
// disk to wait for): its rate over the limit's, on a log scale, with the
// limit drawn as the line at 1.
func (r *Report) limitChart() (*plot.Plot, vg.Length, vg.Length, error) {
	ws := r.limitWorkloads()
	var names []string
	for _, b := range r.columns() {
		if b != DiskBackend && b != ceilingBackend && slices.ContainsFunc(r.Limit, func(x Ratio) bool { return x.Backend == b }) {
			names = append(names, b)
		}
	}
	if len(ws) == 0 || len(names) == 0 {
		return nil, 0, 0, nil
	}
	all := []float64{1}
	for _, x := range r.Limit {
		if slices.Contains(names, x.Backend) {
			all = append(all, x.Value.Median)
		}
	}
	tr, ticks := logTransform(all)
	var ss []series
	for _, b := range names {
		s := series{label: b, values: make([]float64, len(ws)), color: r.colorOf(b)}
		for i, w := range ws {
			if v, ok := r.limitRatio(w, b); ok {
				s.values[i] = tr(v.Median)
			}
		}
		ss = append(ss, s)
	}
	p, w, h, err := groupedBars("Rate against the physical limit (1 = the disk's limit; log scale)", "× the limit", ws, ss, false)
	if err != nil {
		return nil, 0, 0, err
	}
	p.Y.Min = 0
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	line, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: tr(1)}, {X: float64(len(ws)) - 0.5, Y: tr(1)}})
	if err != nil {
		return nil, 0, 0, err
	}
	line.Width = vg.Points(1.5)
	line.Dashes = plotutil.Dashes(2)
	line.Color = color.Black
	p.Add(line)
	p.Legend.Add("physical limit = 1", line)
	return p, w, h, nil
}
