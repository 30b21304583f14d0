package torture

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/conformance"
)

// Outcome classifies what a damaged store did when it was opened and read.
type Outcome string

// The outcomes of a corruption trial. Silent, TailLoss and Crash must never
// happen.
const (
	// Detected: Open, Verify or a read failed with an error wrapping
	// eventstore.ErrCorrupt.
	Detected Outcome = "detected"
	// Clean: everything acknowledged was read back intact and nothing was
	// reported: the damage did not touch live data (an obsolete file, the
	// engine's diagnostic log, a snapshot recovery passed over).
	Clean Outcome = "clean"
	// Prefix: a shorter log, dense and byte-identical to the start of what
	// was acknowledged, which the recovery report flags
	// (RecoveryReport.LostEvents).
	Prefix Outcome = "prefix"
	// TailLoss: like Prefix but with nothing flagged: acknowledged events
	// missing at the end of the log, and no error or report says so. The
	// head mark (HEADMARK) remembers how far the log reached, so a Sync
	// store must report such a loss: like Silent, it must never happen.
	TailLoss Outcome = "tail-loss"
	// Error: Open, Verify or a read failed with an error that does not wrap
	// ErrCorrupt (the failure is loud, but not classified as corruption).
	Error Outcome = "error"
	// Silent: data that differs from what was written was returned, or
	// acknowledged events are missing other than at the tail, and nothing
	// was reported.
	Silent Outcome = "silent"
	// Crash: the process panicked, segfaulted, or hung past the trial's
	// timeout.
	Crash Outcome = "crash"
)

// Outcomes lists the outcomes in table order.
var Outcomes = []Outcome{Detected, Clean, Prefix, TailLoss, Error, Silent, Crash}

// Result is the outcome of one trial.
type Result struct {
	Outcome Outcome `json:"outcome"`
	// Stage is where the outcome was decided: open, verify, read, check,
	// close, or child (the process died).
	Stage string `json:"stage"`
	// Err is the error reported, if any.
	Err string `json:"err,omitempty"`
	// NamesFile and NamesOffset tell whether the error names the damaged
	// file (or, for a deleted file, any file of the store) or a log
	// offset: a CorruptionError's, or the range of offsets the log lost
	// below its head mark.
	NamesFile   bool `json:"names_file,omitempty"`
	NamesOffset bool `json:"names_offset,omitempty"`
	// Head is the head recovered; Expected the acknowledged head.
	Head     uint64 `json:"head"`
	Expected uint64 `json:"expected"`
	// LostEvents counts the acknowledged events missing.
	LostEvents int `json:"lost_events,omitempty"`
	// SnapshotsSkipped counts the snapshots recovery passed over.
	SnapshotsSkipped int    `json:"snapshots_skipped,omitempty"`
	Detail           string `json:"detail,omitempty"`
	// Damage is the damage of the trial; NoChange is set when it changed
	// no byte (zeroing a block that was zero).
	Damage   Damage `json:"damage"`
	NoChange bool   `json:"no_change,omitempty"`
}

// Located reports whether the error names where the damage is.
func (r Result) Located() bool { return r.NamesFile || r.NamesOffset }

// inspectChild opens the damaged store and classifies it.
func inspectChild(spec ChildSpec) Result {
	var res Result
	if spec.Trial != nil {
		res.Damage = *spec.Trial
	}
	h, err := LoadHistory(spec.HistoryFile)
	if err != nil {
		return Result{Outcome: Error, Stage: "setup", Err: err.Error()}
	}
	for _, a := range h.Acks() {
		res.Expected = max(res.Expected, uint64(a.Last))
	}
	opts, err := StoreOptions(spec.Backend, spec.Profile)
	if err != nil {
		return Result{Outcome: Error, Stage: "setup", Err: err.Error()}
	}
	sm := new(conformance.HashState)
	s, err := Open(spec.Dir, sm, opts...)
	if err != nil {
		res.classifyErr("open", err, spec.Dir)
		return res
	}
	defer func() {
		if err := s.Close(); err != nil && res.Outcome == Clean {
			res.Detail = fmt.Sprintf("Close failed: %v", err)
		}
	}()
	rep, err := Inspect(context.Background(), s, sm, h)
	res.Head = uint64(s.Head())
	res.SnapshotsSkipped = len(s.LastRecovery().Skipped)
	if err != nil {
		stage := "read"
		if errors.Is(err, ErrVerify) {
			stage = "verify"
		}
		res.classifyErr(stage, err, spec.Dir)
		return res
	}
	res.Stage = "check"
	res.LostEvents = rep.LostEvents
	counts := maps0(rep.Counts)
	delete(counts, KindRecovery)
	flagged := rep.Recovery.LostEvents > 0
	switch {
	case len(counts) == 0 && res.Head == res.Expected:
		res.Outcome = Clean
	case len(counts) == 1 && counts[KindLost] > 0 && uint64(rep.MinLostFirst) > rep.Records && flagged:
		res.Outcome = Prefix
		res.Detail = fmt.Sprintf("the log ends at %d of %d; the recovery report says %d events were lost", res.Head, res.Expected, rep.Recovery.LostEvents)
	case len(counts) == 1 && counts[KindLost] > 0 && uint64(rep.MinLostFirst) > rep.Records:
		res.Outcome = TailLoss
		res.Detail = fmt.Sprintf("the log ends at %d of %d, and nothing says so", res.Head, res.Expected)
	default:
		res.Outcome = Silent
		res.Detail = rep.Err().Error()
	}
	return res
}

func maps0(m map[Kind]int) map[Kind]int {
	out := map[Kind]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// lostRange matches the head mark's account of a log that ends below it
// ("the log lost 14 events, 826 to 839"): it names where the loss is,
// though the store cannot tell which engine file lost the records.
var lostRange = regexp.MustCompile(`lost \d+ events, \d+ to \d+`)

func (res *Result) classifyErr(stage string, err error, dir string) {
	res.Stage = stage
	res.Err = err.Error()
	if errors.Is(err, eventstore.ErrCorrupt) {
		res.Outcome = Detected
	} else {
		res.Outcome = Error
	}
	msg := err.Error()
	base := filepath.Base(res.Damage.File)
	res.NamesFile = strings.Contains(msg, base)
	if res.Damage.Kind == Delete || !res.NamesFile {
		// A missing or damaged file may be reported through another
		// file of the store (the MANIFEST that lists it, say): naming
		// a file of the store directory counts.
		res.NamesFile = res.NamesFile || strings.Contains(msg, dir+"/")
	}
	var ce *eventstore.CorruptionError
	res.NamesOffset = errors.As(err, &ce) && (ce.Offset > 0 || ce.Key != "" || ce.File != "") || lostRange.MatchString(msg)
}

// Template is a store written by a workload and left as a trial starts
// from: its files and the History of what was acknowledged.
type Template struct {
	Name        string // "closed" or "crashed", with "/small" for ProfileSmall
	Dir         string
	HistoryFile string
	Backend     string
	Profile     string
	Head        uint64
	Files       []File
}

// BuildTemplate writes a store in dir with a workload child of appends
// appends (seeded), then, when crash is set, kills the child after the last
// acknowledgement (the engine's WAL and memtable are left as a crash leaves
// them) and otherwise lets it close the store. The history is saved next to
// dir.
func BuildTemplate(dir, backend, profile string, seed uint64, appends int, crash bool) (*Template, error) {
	h := NewHistory(Shape{Seed: seed})
	spec := ChildSpec{Mode: ModeWorkload, Dir: dir, Backend: backend, Profile: profile, Hold: crash,
		Workload: Workload{Shape: h.Shape(), Epoch: 1, MaxAppends: appends}}
	c, err := startChild(spec, h)
	if err != nil {
		return nil, err
	}
	var ok bool
	if crash {
		t := time.NewTimer(5 * time.Minute)
		select {
		case <-c.Done():
			ok = true
		case <-c.Exited():
		case <-t.C:
		}
		t.Stop()
		c.Kill()
	} else {
		timedOut, err := c.WaitTimeout(5 * time.Minute)
		ok = !timedOut && err == nil
	}
	if !ok || c.Err() != "" {
		return nil, fmt.Errorf("torture: build the %s template: %s", backend, c.describe())
	}
	t := &Template{Name: "closed", Dir: dir, HistoryFile: dir + ".history.json", Backend: backend, Profile: profile}
	if crash {
		t.Name = "crashed"
	}
	if profile != ProfileDefault {
		t.Name += "/" + profile
	}
	for _, a := range h.Acks() {
		t.Head = max(t.Head, uint64(a.Last))
	}
	if err := h.Save(t.HistoryFile); err != nil {
		return nil, err
	}
	if t.Files, err = ListFiles(dir); err != nil {
		return nil, err
	}
	return t, nil
}

// RunTrial copies the template into work (which must not exist), applies d,
// and opens and reads the copy in a child process, which it kills after
// timeout. It removes work afterwards.
func RunTrial(t *Template, d Damage, work string, timeout time.Duration) Result {
	d.Template = t.Name
	res := Result{Damage: d, Expected: t.Head}
	defer os.RemoveAll(work)
	if err := CopyDir(t.Dir, work); err != nil {
		res.Outcome, res.Stage, res.Err = Error, "setup", err.Error()
		return res
	}
	changed, err := d.Apply(work)
	if err != nil {
		res.Outcome, res.Stage, res.Err = Error, "setup", err.Error()
		return res
	}
	spec := ChildSpec{Mode: ModeInspect, Dir: work, Backend: t.Backend, Profile: t.Profile, HistoryFile: t.HistoryFile, Trial: &d}
	c, err := startChild(spec, nil)
	if err != nil {
		res.Outcome, res.Stage, res.Err = Error, "setup", err.Error()
		return res
	}
	timedOut, _ := c.WaitTimeout(timeout)
	c.mu.Lock()
	r := c.result
	c.mu.Unlock()
	switch {
	case timedOut:
		res.Outcome, res.Stage, res.Detail = Crash, "child", fmt.Sprintf("hung: killed after %v", timeout)
	case r == nil:
		res.Outcome, res.Stage, res.Detail = Crash, "child", c.describe()
	case strings.Contains(c.Stderr(), "DATA RACE"):
		res = *r
		res.Outcome, res.Stage, res.Detail = Crash, "child", "the race detector reported: "+c.describe()
	default:
		res = *r
	}
	res.Damage = d
	res.NoChange = !changed
	return res
}

// Campaign runs corruption trials against the templates of one engine.
type Campaign struct {
	Templates []*Template
	Seed      uint64
	// PerKind is the number of trials per template and damage kind, each
	// on a file drawn at random (file kinds equally likely). Ignored when
	// Exhaustive.
	PerKind int
	// Exhaustive runs Repeat trials for every file of every template and
	// every damage kind.
	Exhaustive bool
	Repeat     int
	// Parallel trials at once. Default 2.
	Parallel int
	// WorkDir receives the trial copies.
	WorkDir string
	// Timeout per trial. Default 2 minutes.
	Timeout time.Duration
}

// Plan returns the damages of the campaign, in order.
func (c Campaign) Plan() []Damage {
	rng := rand.New(rand.NewPCG(c.Seed, 0x636f7272)) // "corr"
	var out []Damage
	add := func(t *Template, f File, k DamageKind) {
		seed := rng.Uint64()
		d, ok := PlanDamage(rand.New(rand.NewPCG(seed, 1)), f, k)
		if ok {
			d.Seed, d.Template = seed, t.Name
			out = append(out, d)
		}
	}
	for _, t := range c.Templates {
		if c.Exhaustive {
			for _, f := range t.Files {
				for _, k := range DamageKinds {
					for range max(c.Repeat, 1) {
						add(t, f, k)
					}
				}
			}
			continue
		}
		byKind := map[string][]File{}
		var kinds []string
		for _, f := range t.Files {
			if byKind[f.Kind] == nil {
				kinds = append(kinds, f.Kind)
			}
			byKind[f.Kind] = append(byKind[f.Kind], f)
		}
		for _, k := range DamageKinds {
			for range c.PerKind {
				fs := byKind[kinds[rng.IntN(len(kinds))]]
				add(t, fs[rng.IntN(len(fs))], k)
			}
		}
	}
	return out
}

// Run runs the campaign's trials and returns their results in plan order.
func (c Campaign) Run(ctx context.Context) []Result {
	plan := c.Plan()
	par := c.Parallel
	if par <= 0 {
		par = 2
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	byName := map[string]*Template{}
	for _, t := range c.Templates {
		byName[t.Name] = t
	}
	results := make([]Result, len(plan))
	next := make(chan int)
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			for i := range next {
				results[i] = RunTrial(byName[plan[i].Template], plan[i], filepath.Join(c.WorkDir, fmt.Sprintf("trial-%d", i)), timeout)
			}
		})
	}
	for i := range plan {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// Table renders per-(damage, file kind) counts of the outcomes, with a
// total row, for one engine.
func Table(backend string, results []Result) string {
	type key struct{ damage, file string }
	rows := map[key]map[Outcome]int{}
	total := map[Outcome]int{}
	located, detected, maxTail := 0, 0, 0
	for _, r := range results {
		if r.Outcome == TailLoss {
			maxTail = max(maxTail, r.LostEvents)
		}
		k := key{string(r.Damage.Kind), r.Damage.FileKind}
		if rows[k] == nil {
			rows[k] = map[Outcome]int{}
		}
		rows[k][r.Outcome]++
		total[r.Outcome]++
		if r.Outcome == Detected {
			detected++
			if r.Located() {
				located++
			}
		}
	}
	keys := make([]key, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].damage != keys[j].damage {
			return slices.Index(DamageKinds, DamageKind(keys[i].damage)) < slices.Index(DamageKinds, DamageKind(keys[j].damage))
		}
		return keys[i].file < keys[j].file
	})
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tdamage\tfile\t", backend)
	for _, o := range Outcomes {
		fmt.Fprintf(tw, "%s\t", o)
	}
	fmt.Fprintln(tw, "trials\t")
	for _, k := range keys {
		fmt.Fprintf(tw, "\t%s\t%s\t", k.damage, k.file)
		n := 0
		for _, o := range Outcomes {
			fmt.Fprintf(tw, "%d\t", rows[k][o])
			n += rows[k][o]
		}
		fmt.Fprintf(tw, "%d\t\n", n)
	}
	fmt.Fprintf(tw, "\tTOTAL\t\t")
	for _, o := range Outcomes {
		fmt.Fprintf(tw, "%d\t", total[o])
	}
	fmt.Fprintf(tw, "%d\t\n", len(results))
	tw.Flush()
	fmt.Fprintf(&b, "%s: %d of %d detected errors name the file or offset; the largest undetected tail loss is %d events\n", backend, located, detected, maxTail)
	return b.String()
}
