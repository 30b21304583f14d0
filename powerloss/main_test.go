package powerloss

import (
	"testing"

	"github.com/durablelog/eventstore/internal/lazyfs"
	"github.com/durablelog/eventstore/internal/torture"
	_ "github.com/durablelog/eventstore/internal/torture/engines" // the durable engines and their profiles
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// A test binary is also the lazyfs server, the torture workload child
	// and the fault child: each runs its part and exits.
	lazyfs.MaybeRunServer()
	torture.MaybeRunChild()
	maybeRunFaultChild()
	goleak.VerifyTestMain(m,
		// pebble v2.1.7's Open registers with its compaction scheduler
		// (open.go:532) and does not unregister when it fails later, as
		// when TestLazyFSFaults fails the OPTIONS rename: the scheduler's
		// granter goroutine leaks. An open DB left behind would show its
		// other goroutines too.
		goleak.IgnoreTopFunction("github.com/cockroachdb/pebble/v2.(*ConcurrencyLimitScheduler).periodicGranter"),
	)
}
