package main

import (
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// bar is a progress bar on stderr, or nothing: every method of a nil *bar
// does nothing.
type bar struct {
	pb *progressbar.ProgressBar
}

// showProgress reports whether progress bars are drawn: always with
// --progress=always, never with --progress=never, and with auto when both
// stdout and stderr are terminals, so that pipes, files and scripts get none.
func (a *app) showProgress() bool {
	switch a.progress {
	case "always":
		return true
	case "never":
		return false
	}
	return isTerminal(a.stdout) && isTerminal(a.stderr)
}

func isTerminal(w any) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// newBar returns a bar counting to total (records or bytes) with the rate and
// the ETA, or nil when progress bars are off.
func (a *app) newBar(total int64, desc, unit string) *bar {
	if !a.showProgress() {
		return nil
	}
	if total <= 0 {
		total = 1
	}
	return &bar{pb: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)}
}

// set moves the bar to n.
func (b *bar) set(n int64) {
	if b != nil {
		_ = b.pb.Set64(n)
	}
}

// add moves the bar on by n.
func (b *bar) add(n int64) {
	if b != nil {
		_ = b.pb.Add64(n)
	}
}

// done fills and clears the bar.
func (b *bar) done() {
	if b != nil {
		_ = b.pb.Finish()
	}
}

// stop clears the bar where it stands, for a failure.
func (b *bar) stop() {
	if b != nil {
		_ = b.pb.Exit()
	}
}
