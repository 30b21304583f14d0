package conformance

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/torture"
	"github.com/stretchr/testify/require"
)

// DefaultKills is the number of kills of RunCrash when neither Harness.Kills
// nor the -conformance.kills flag sets it.
const DefaultKills = 10

var (
	killsFlag = flag.Int("conformance.kills", 0, "kills of each RunCrash (0: Harness.Kills, or 10)")
	seedFlag  = flag.Uint64("conformance.seed", 0, "seed of RunCrash's workload and kill moments (0: from the clock; every run logs its seed)")
)

// The writer of the crash case is the test binary itself, run again with
// -test.run selecting the test that called RunCrash: RunCrash finds these
// variables set and writes instead of killing.
const (
	crashSpecEnv = "EVENTSTORE_CONFORMANCE_CRASH_WRITER" // the writer's torture.ChildSpec
	crashTestEnv = "EVENTSTORE_CONFORMANCE_CRASH_TEST"   // the name of the test that writes
)

// RunCrash runs the crash case on the engine that h describes, in a sub-test
// named Kill9: Harness.Kills times (default 10, or -conformance.kills), it
// runs a writer in a child process, kills it with SIGKILL at a random moment
// (while it opens and recovers the store, after a random delay, or after a
// random number of acknowledged appends), reopens the directory in this
// process and checks, over the whole history of the directory:
//
//   - every acknowledged append is present at the offsets and stream
//     version it was acknowledged with, with exactly the content it
//     submitted;
//   - offsets are dense from 1, and every stream's versions are dense from 1;
//   - every append is present whole or absent, at most once, and of the
//     unacknowledged ones only those in flight at the kill (at most one per
//     writer goroutine) may be present; an append rejected for its expected
//     version is absent;
//   - the store reports no loss, and Verify passes;
//   - the recovered state of a HashState (restored from the store's
//     snapshots, taken every 50 events, and the log replayed after them)
//     equals a fold over the log.
//
// The writer appends with four goroutines to 16 streams, with exact and Any
// expected versions, 1 to 5 events per append of up to 8 KiB each, in Sync
// durability, and goes on in the same directory after each kill. RunCrash
// fails when fewer appends than kills were acknowledged and checked, and
// when a kill takes longer than Harness.Timeout. Each run logs its seed;
// -conformance.seed repeats one.
//
// The child process runs the same test again: RunCrash must be reached the
// same way in it (call it once per test or sub-test, from code that does
// not depend on the run), Config must give the same engine configuration in
// both processes, and the test must be selectable by its name with -run. No
// TestMain change is needed. A harness that declares Volatile is skipped:
// its data cannot outlive the writer's process.
func RunCrash(t *testing.T, h Harness) {
	t.Helper()
	t.Run("Kill9", func(t *testing.T) { runCrash(t, h) })
}

func runCrash(t *testing.T, h Harness) {
	if raw, ok := os.LookupEnv(crashSpecEnv); ok {
		if name := os.Getenv(crashTestEnv); name != t.Name() {
			t.Skipf("this process writes for the crash case of %s", name)
		}
		os.Exit(torture.RunWorkloadChild(raw, h.crashOpener(t)))
	}
	if h.Volatile {
		t.Skip("the crash case kills the process that writes and reopens the store in another, and the harness declares that its stores keep nothing across processes (Harness.Volatile)")
	}
	kills := h.Kills
	if *killsFlag > 0 {
		kills = *killsFlag
	}
	if kills <= 0 {
		kills = DefaultKills
	}
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("%s: %d kills, seed %d (repeat with -conformance.seed=%d)", h.Name, kills, seed, seed)
	dog := startWatchdog(t, h.timeout())
	l := torture.KillLoop{
		Dir:            h.dir(t),
		Backend:        h.Name,
		Seed:           seed,
		Kills:          kills,
		StartupTimeout: h.waitLimit(),
		// A quarter of the kills while the writer opens and recovers the
		// store, so that a short run has some.
		OpenKillPercent: 25,
		Command: torture.ChildCommand{
			Args:    []string{"-test.run=" + testPattern(t.Name()), "-test.count=1"},
			Env:     crashSpecEnv,
			Environ: []string{crashTestEnv + "=" + t.Name()},
		},
		Open: h.crashOpener(t),
		Logf: func(format string, args ...any) {
			dog.reset() // one more kill done
			t.Logf(format, args...)
		},
	}
	st, err := l.Run(t.Context())
	t.Logf("%s: %v", h.Name, st)
	require.NoError(t, err)
	require.Equal(t, kills, st.Kills, "every writer must be killed while it runs")
	require.Zero(t, st.LostAppends, "acknowledged appends lost")
	require.GreaterOrEqual(t, st.AckedAppends, kills, "too few acknowledged appends were checked for the crash case to mean anything")
}

// crashOpener opens the store of h in dir as the crash case does: Sync
// durability, sm as the state machine, a snapshot every 50 events.
func (h Harness) crashOpener(t testing.TB) torture.Opener {
	return func(dir string, sm *HashState) (*eventstore.Store, error) {
		return torture.Open(dir, sm, h.storeOptions(t, dir)...)
	}
}

// testPattern returns the -test.run pattern that selects exactly the test
// named name (as testing.T.Name gives it).
func testPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}
