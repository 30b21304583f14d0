package powerloss

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/durablelog/eventstore/backends/rocksdb"
	"github.com/durablelog/eventstore/internal/lazyfs"
	"github.com/durablelog/eventstore/internal/torture"
	"github.com/stretchr/testify/require"
)

// TestPowerLossRocksDBWALModes: RocksDB opened with the stricter WAL
// recovery modes, which would detect more corruption at rest (section 4 of
// docs/reliability.md), must still open after every power cut: in Sync mode
// a cut can only leave the WAL ending after the last synced record. lazyfs
// drops whole unsynced writes and never tears one, so this checks the WAL
// as it ends at an fsync boundary; torn records are not modelled here.
func TestPowerLossRocksDBWALModes(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING the FUSE power-loss tests: %v ***\n\n", err)
		t.Skipf("SKIPPING the FUSE power-loss tests: %v", err)
	}
	if !engineSelected(rocksdb.Name) {
		t.Skip("not selected by -powerloss.engines")
	}
	sd := seed(t)
	n := max(cuts()/2, 3)
	for _, mode := range []rocksdb.WALRecoveryMode{rocksdb.WALRecoveryTolerateCorruptedTail, rocksdb.WALRecoveryAbsoluteConsistency} {
		t.Run(mode.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(sd, uint64(mode)))
			m := newMounted(t)
			h := torture.NewHistory(torture.Shape{Seed: rng.Uint64()})
			spec := faultSpec{Dir: m.dir, Backend: rocksdb.Name, Shape: h.Shape(), RocksWAL: mode}
			for i := 1; i <= n; i++ {
				spec.Epoch = uint32(i)
				p, err := startFaultChild(spec, h)
				require.NoError(t, err)
				require.NoError(t, p.waitAcks(1+rng.IntN(80), 2*time.Minute), "cut %d", i)
				_ = p.cmd.Process.Kill()
				_, _ = p.wait(time.Minute)
				_, err = m.srv.Cut()
				require.NoError(t, err)
				m.srv = nil
				m.mount(t)
				rep, err := checkStore(context.Background(), m.dir, spec.options(), h)
				require.NoError(t, err, "%s, seed %d, cut %d: the store must open and hold every acknowledged append", mode, sd, i)
				t.Logf("%s cut %d: %d acked appends checked, head %d", mode, i, rep.AckedAppends, rep.Head)
			}
		})
	}
}
