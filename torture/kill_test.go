package torture_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore/internal/torture"
)

// TestKill9 kills a child process that appends in Sync mode with SIGKILL at
// random moments, -kills times per engine, and checks the store after every
// kill: every acknowledged event present and byte-identical at its offset,
// dense offsets and versions, no append in part, the recovered state equal to
// a fold over the log. The child goes on in the same directory each time.
func TestKill9(t *testing.T) {
	s := seed(t)
	for i, engine := range engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			l := torture.KillLoop{
				Dir:            filepath.Join(t.TempDir(), "store"),
				Backend:        engine,
				Profile:        torture.ProfileSmall,
				Seed:           s + uint64(i),
				Kills:          *killsFlag,
				FullCheckEvery: *fullEvery,
				MaxAcks:        *maxAcks,
				MaxDelay:       *maxDelay,
				Logf:           logfIfVerbose(t),
			}
			st, err := l.Run(context.Background())
			t.Logf("%s seed %d: %v", engine, l.Seed, st)
			if err != nil {
				t.Fatal(err)
			}
			if st.LostAppends != 0 {
				t.Fatalf("%s seed %d: %d acknowledged appends lost", engine, l.Seed, st.LostAppends)
			}
		})
	}
}

func logfIfVerbose(t *testing.T) func(string, ...any) {
	if !testing.Verbose() {
		return nil
	}
	return t.Logf
}
