package benchreport

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrBusy is returned by Run when the machine's load is above
// Config.MaxLoad and Config.Force is not set. It may be wrapped: use
// errors.Is.
var ErrBusy = errors.New("benchreport: the machine is busy")

// readLoad returns the 1, 5 and 15-minute load averages, and whether they
// could be read. Tests replace it.
var readLoad = func() ([3]float64, bool) {
	var l [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l, false
	}
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &l[0], &l[1], &l[2]); err != nil {
		return l, false
	}
	return l, true
}

// loadAverage returns the load averages, zeros when unknown.
func loadAverage() [3]float64 {
	l, _ := readLoad()
	return l
}

// LoadGuard records the load check made before the run.
type LoadGuard struct {
	// Limit is Config.MaxLoad: the highest 1-minute load average at which
	// a run starts unforced.
	Limit float64 `json:"limit"`
	// AtStart are the 1, 5 and 15-minute load averages when the run was
	// about to start; Known is false where they could not be read.
	AtStart [3]float64 `json:"at_start"`
	Known   bool       `json:"known"`
	// Forced is set when the run started above Limit because Config.Force
	// said so: its figures were taken under load.
	Forced bool `json:"forced,omitempty"`
}

// checkLoad reads the load and refuses a run above limit unless forced.
func checkLoad(limit float64, force bool) (LoadGuard, error) {
	l, ok := readLoad()
	g := LoadGuard{Limit: limit, AtStart: l, Known: ok}
	if !ok || l[0] <= limit {
		return g, nil
	}
	if force {
		g.Forced = true
		return g, nil
	}
	return g, fmt.Errorf("%w: the 1-minute load average is %.2f (5 and 15 minutes: %.2f, %.2f), above the limit of %.2f: "+
		"the figures would measure the other work as much as the store; wait until the machine is quiet, "+
		"or run anyway with --force (BENCH_FORCE=1), and the report will say that it was taken under load",
		ErrBusy, l[0], l[1], l[2], limit)
}

// UnderLoad reports whether the run was forced to start above the limit.
func (g LoadGuard) UnderLoad() bool { return g.Forced }
