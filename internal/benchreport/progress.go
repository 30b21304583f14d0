package benchreport

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows the run's progress: a bar on a terminal, plain lines on a
// log, or nothing.
type progress struct {
	bar   *progressbar.ProgressBar
	log   io.Writer
	total int
}

// newProgress returns a progress with a bar on w when w is a terminal, and
// lines on log when log is not nil.
func newProgress(w, log io.Writer, total int) *progress {
	p := &progress{log: log, total: total}
	if isTerminal(w) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("benchmarks"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	return p
}

// isTerminal reports whether w is a file open on a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && f != nil && term.IsTerminal(int(f.Fd()))
}

func (p *progress) start(i int, st step) {
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%s on %s (repeat %d)", st.w.Name, st.backend, st.repeat))
	}
}

func (p *progress) done(i int, s Sample) {
	if p.bar != nil {
		_ = p.bar.Add(1)
	}
	if p.log == nil {
		return
	}
	var what string
	switch {
	case s.Err != "":
		what = "FAILED: " + s.Err
	case s.Extra["open-ms"] > 0:
		what = fmt.Sprintf("%s events/s, open %.1f ms", formatNum(s.EventsPerSec), s.Extra["open-ms"])
	default:
		what = formatNum(s.EventsPerSec) + " events/s"
	}
	fmt.Fprintf(p.log, "[%d/%d] %s on %s, repeat %d, n=%d: %s (%s, load %.2f)\n",
		i+1, p.total, s.Workload, s.Backend, s.Repeat, s.N, what,
		(time.Duration(s.WallSec * float64(time.Second))).Round(time.Millisecond), s.Load1)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

func (p *progress) abort() {
	if p.bar != nil {
		_ = p.bar.Exit()
	}
}
