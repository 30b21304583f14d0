package torture

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/durablelog/eventstore/internal/conformance"
)

// KillLoop is the kill -9 torture of one directory: Kills times, start a
// workload child on Dir, kill it with SIGKILL at a random moment, reopen the
// store in this process with a fresh HashState and Check it against the
// History of every run so far, with the recovery reports of the child and of
// the check (nothing lost, no hole, the generation unchanged since the first
// check); the next child goes on in the same directory.
type KillLoop struct {
	Dir     string
	Backend string
	Profile string // engine configuration (EngineConfig)
	Seed    uint64
	Kills   int
	// Workers per child. Default 4.
	Workers int
	// MaxDelay bounds the random kill delay after the child is ready.
	// Default 150ms.
	MaxDelay time.Duration
	// MaxAcks bounds the random number of acknowledgements a child may be
	// killed after. Default 150.
	MaxAcks int
	// StartupTimeout bounds the time a child may take to open the store.
	// Default 2 minutes.
	StartupTimeout time.Duration
	// FullCheckEvery runs Store.Verify in the check after every
	// FullCheckEvery-th kill and after the last; the other checks skip it
	// and resume the fold from the previous check (see CheckOptions), so a
	// long run does not spend its time re-verifying an ever longer log.
	// Default 1: every check is full.
	FullCheckEvery int
	// AfterKill, when set, runs after each kill, before the reopen: a
	// power-loss test drops the unsynced writes here.
	AfterKill func(iteration int) error
	// Logf, when set, receives a line per iteration.
	Logf func(format string, args ...any)
	// Command, when set, starts the workload children with its arguments
	// and environment variable, for a test binary whose child part is not
	// MaybeRunChild (see RunWorkloadChild); Open then opens the store for
	// the checks. With Command set, Backend only names the engine in
	// messages, and Profile is not used.
	Command ChildCommand
	// Open, when set, opens the store for the check after each kill,
	// instead of Open with StoreOptions(Backend, Profile).
	Open Opener
	// OpenKillPercent is the share of the kills, in percent (rounded down
	// to a multiple of 5), made while the child starts and opens the
	// store. Default 10. The others are made, half and half, after a
	// random delay and after a random number of acknowledgements.
	OpenKillPercent int
}

// KillStats are the figures of a KillLoop.
type KillStats struct {
	Kills         int // children killed while running (the others had exited)
	KilledStartup int // of them, killed before they had opened the store
	Iterations    int
	// The figures of the last Check, over the whole history: they grow
	// with every iteration. AckedAppends and AckedEvents count the
	// acknowledged appends and events checked present.
	AckedAppends, AckedEvents     int
	LostAppends, LostEvents       int
	UnackedAppends, UnackedEvents int // unacknowledged appends found present, summed over the iterations
	Rejected                      int
	// LockRetries counts the children's retries of a locked directory
	// (see Open).
	LockRetries uint64
	Head        uint64
	Duration    time.Duration
}

func (s KillStats) String() string {
	return fmt.Sprintf("kills=%d (during open %d) acked appends=%d events=%d lost appends=%d events=%d unacked-but-present appends=%d events=%d rejected-checked=%d lock-retries=%d head=%d in %v",
		s.Kills, s.KilledStartup, s.AckedAppends, s.AckedEvents, s.LostAppends, s.LostEvents, s.UnackedAppends, s.UnackedEvents, s.Rejected, s.LockRetries, s.Head, s.Duration.Round(time.Millisecond))
}

// Run runs the loop. Its error names the seed and the iteration.
func (l KillLoop) Run(ctx context.Context) (KillStats, error) {
	if l.MaxDelay <= 0 {
		l.MaxDelay = 150 * time.Millisecond
	}
	if l.MaxAcks <= 0 {
		l.MaxAcks = 150
	}
	if l.StartupTimeout <= 0 {
		l.StartupTimeout = 2 * time.Minute
	}
	if l.Logf == nil {
		l.Logf = func(string, ...any) {}
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(l.Seed, 0x6b696c6c)) // "kill"
	h := NewHistory(Shape{Seed: l.Seed})
	var st KillStats
	lastStartup := 50 * time.Millisecond
	var fold *FoldPoint
	// gen is the store's generation, from the first check on: in Sync mode
	// a kill loses nothing acknowledged, so it must never change.
	var gen uint64
	fail := func(i int, format string, args ...any) (KillStats, error) {
		st.Duration = time.Since(start)
		return st, fmt.Errorf("kill -9 torture of %s, seed %d, iteration %d: %s", l.Backend, l.Seed, i, fmt.Sprintf(format, args...))
	}
	for i := 1; i <= l.Kills; i++ {
		if err := ctx.Err(); err != nil {
			return fail(i, "%v", err)
		}
		spec := ChildSpec{Dir: l.Dir, Backend: l.Backend, Profile: l.Profile,
			Workload: Workload{Shape: h.Shape(), Epoch: uint32(i), Workers: l.Workers}}
		c, err := l.start(spec, h)
		if err != nil {
			return fail(i, "%v", err)
		}
		// Where to kill: during Open (1 in 10, or OpenKillPercent), after
		// a random delay, or after a random number of acknowledgements.
		var trigger <-chan struct{}
		var startupTimer *time.Timer
		switch mode := rng.IntN(20); {
		case mode < l.openKills():
			ch := make(chan struct{})
			startupTimer = time.AfterFunc(time.Duration(rng.Int64N(int64(lastStartup)+1)), func() { close(ch) })
			trigger = ch
		case mode < l.openKills()+(20-l.openKills())/2:
			trigger = c.AfterReady(time.Duration(rng.Int64N(int64(l.MaxDelay) + 1)))
		default:
			trigger = c.AfterAcks(1 + rng.IntN(l.MaxAcks))
		}
		timeout := time.NewTimer(l.StartupTimeout)
		var early bool
		select {
		case <-trigger:
		case <-c.Exited():
			early = true
		case <-timeout.C:
			c.Kill()
			return fail(i, "the child did not open the store and append within %v: %s", l.StartupTimeout, c.describe())
		}
		timeout.Stop()
		if startupTimer != nil {
			startupTimer.Stop()
		}
		wasReady := isClosed(c.Ready())
		if wasReady {
			lastStartup = c.StartupTime()
		}
		killed := c.Kill()
		if early || !killed {
			return fail(i, "the child exited by itself: %s", c.describe())
		}
		if e := c.Err(); e != "" {
			return fail(i, "the child reported: %s", c.describe())
		}
		if s := c.Stderr(); strings.Contains(s, "DATA RACE") || strings.Contains(s, "panic:") {
			return fail(i, "the child's stderr shows a failure: %s", c.describe())
		}
		if wasReady {
			// The child's own Open recovered from the previous check's
			// clean Close: it must report nothing lost and stay in the
			// generation.
			if err := RecoveryErr(c.Recovery(), gen); err != nil {
				return fail(i, "the child's recovery: %v", err)
			}
		}
		st.Kills++
		st.LockRetries += c.LockRetries()
		if !wasReady {
			st.KilledStartup++
		}
		if l.AfterKill != nil {
			if err := l.AfterKill(i); err != nil {
				return fail(i, "after the kill: %v", err)
			}
		}
		tc := time.Now()
		full := l.FullCheckEvery <= 1 || i%l.FullCheckEvery == 0 || i == l.Kills
		opts := CheckOptions{SkipVerify: !full, Generation: gen}
		if !full {
			opts.FoldFrom = fold
		}
		rep, err := l.check(ctx, h, opts)
		if rep != nil && err == nil {
			fold = rep.FoldPoint
			gen = rep.Generation
		}
		checkTime := time.Since(tc)
		if rep != nil {
			// The check also requires the unacknowledged appends
			// adopted after earlier kills: count only true
			// acknowledgements here.
			st.AckedAppends, st.AckedEvents = rep.AckedAppends-st.UnackedAppends, rep.AckedEvents-st.UnackedEvents
			st.LostAppends, st.LostEvents = rep.LostAppends, rep.LostEvents
			st.Rejected = rep.RejectedChecked
			st.Head = uint64(rep.Head)
		}
		if err != nil {
			return fail(i, "%v", err)
		}
		if err := h.InFlightErr(uint32(i), rep.Survivors); err != nil {
			return fail(i, "%v", err)
		}
		st.Iterations = i
		// Unacknowledged appends found present are counted once, in the
		// iteration after the one that made them: acknowledge them now,
		// so that later iterations also check they stay.
		st.UnackedAppends += rep.UnackedAppends
		st.UnackedEvents += rep.UnackedEvents
		l.Logf("iteration %d: killed after %d acks (ready=%v, open took %v); head %d, %d appends acked so far, %d unacked present; check (full=%v) took %v",
			i, c.Acks(), wasReady, lastStartup.Round(time.Millisecond), rep.Head, rep.AckedAppends, rep.UnackedAppends, full, checkTime.Round(time.Millisecond))
	}
	st.Duration = time.Since(start)
	return st, nil
}

// check reopens the store, checks it against h and adopts the
// unacknowledged appends that survived, so later checks require them too.
func (l KillLoop) check(ctx context.Context, h *History, o CheckOptions) (*Report, error) {
	sm := new(conformance.HashState)
	s, err := l.open(sm)
	if err != nil {
		return nil, fmt.Errorf("reopen after the kill: %w", err)
	}
	rep, cerr := CheckWith(ctx, s, sm, h, o)
	if err := s.Close(); err != nil {
		cerr = errors.Join(cerr, fmt.Errorf("close after the check: %w", err))
	}
	if cerr == nil {
		for _, a := range rep.Survivors {
			h.Ack(a)
		}
	}
	return rep, cerr
}

// AfterReady returns a channel closed d after the child is ready, and never
// if it exits first: a kill trigger at a random moment of the workload.
func (c *Child) AfterReady(d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		select {
		case <-c.Ready():
		case <-c.Exited():
			return
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			close(ch)
		case <-c.Exited():
		}
	}()
	return ch
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
