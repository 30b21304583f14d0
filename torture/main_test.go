// Package torture_test holds the kill -9 and corruption torture tests of
// every durable engine; the library they drive is internal/torture. See
// docs/reliability.md for the fault model and the figures.
//
// The test binary is also the child process of the tests: TestMain runs the
// child's part when internal/torture.ChildEnv is set.
package torture_test

import (
	"flag"
	"testing"
	"time"

	"github.com/durablelog/eventstore/internal/torture"
	_ "github.com/durablelog/eventstore/internal/torture/engines" // the durable engines and their profiles
	"go.uber.org/goleak"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "seed of the torture runs (0: derived from the clock; every run prints its seed)")
	killsFlag = flag.Int("kills", 25, "kill -9 iterations per engine (make torture runs 1000)")
	fullEvery = flag.Int("fullcheck", 5, "run Store.Verify in the check after every N-th kill (and the last); the others resume the fold (1: after every kill)")
	maxAcks   = flag.Int("maxacks", 150, "a child is killed after 1 to maxacks acknowledgements (in about half of the kills)")
	maxDelay  = flag.Duration("maxdelay", 150*time.Millisecond, "a child is killed 0 to maxdelay after it opened the store (in about half of the kills)")
	enginesFl = flag.String("engines", "", "comma-separated engines to torture (default: rocksdb,pebble,badger,sqlite)")
)

func TestMain(m *testing.M) {
	torture.MaybeRunChild() // exits when this process is a torture child
	goleak.VerifyTestMain(m)
}

// seed returns the run's seed and logs it.
func seed(t *testing.T) uint64 {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", s, s)
	return s
}

func engines() []string {
	if *enginesFl == "" {
		return torture.Engines
	}
	return splitComma(*enginesFl)
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
