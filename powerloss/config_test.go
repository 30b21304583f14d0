package powerloss

import (
	"flag"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The long runs (make powerloss) set these flags; the defaults are the short
// runs of go test.
var (
	flagLong     = flag.Bool("powerloss.long", false, "run the long power-loss tests: more cuts and crash points, for the figures")
	flagSeed     = flag.Uint64("powerloss.seed", 0, "seed of every randomized test (0: a random seed, printed)")
	flagCuts     = flag.Int("powerloss.cuts", 0, "power cuts per engine in TestPowerLossFUSE (default 6, long 300)")
	flagDuration = flag.Duration("powerloss.duration", 0, "bound on each engine's TestPowerLossFUSE loop (default none, long 15m)")
	flagPoints   = flag.Int("powerloss.points", 0, "crash points of TestPebbleCrashPoints (default 240, long 25000)")
	flagNoSync   = flag.Int("powerloss.nosync-cuts", 0, "power cuts of TestBadgerNoSyncPowerCuts (default 10, long 400; -powerloss.duration bounds it too)")
	flagEngines  = flag.String("powerloss.engines", "", "comma-separated engines to run (default all)")
	flagProfile  = flag.String("powerloss.profile", "small", "engine profile of TestPowerLossFUSE (see torture.EngineConfig): small or \"\" for the defaults")
	flagVerbose  = flag.Bool("powerloss.verbose", false, "log every iteration, and the lazyfs server's diagnostics")
)

func pick(long bool, short, longV int, flagV int) int {
	switch {
	case flagV > 0:
		return flagV
	case long:
		return longV
	}
	return short
}

func seed(t *testing.T) uint64 {
	s := *flagSeed
	if s == 0 {
		s = rand.Uint64() >> 1
	}
	t.Logf("seed %d (rerun with -powerloss.seed=%d)", s, s)
	return s
}

func cuts() int { return pick(*flagLong, 6, 300, *flagCuts) }

func loopDuration() time.Duration {
	if *flagDuration > 0 {
		return *flagDuration
	}
	if *flagLong {
		return 15 * time.Minute
	}
	return 0
}

func noSyncCuts() int { return pick(*flagLong, 10, 400, *flagNoSync) }

func crashPoints() int { return pick(*flagLong, 240, 25000, *flagPoints) }

func engineSelected(name string) bool {
	if *flagEngines == "" {
		return true
	}
	for _, e := range strings.Split(*flagEngines, ",") {
		if strings.TrimSpace(e) == name {
			return true
		}
	}
	return false
}
