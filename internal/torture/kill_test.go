package torture_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore/internal/torture"
	"github.com/stretchr/testify/require"
)

// TestKillLoopReportsLoss sabotages the store after the second kill (it
// wipes the directory, as a disk that lost everything would) and checks
// that the loop fails, naming the seed, the iteration and the loss.
func TestKillLoopReportsLoss(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	l := torture.KillLoop{
		Dir: dir, Backend: "pebble", Seed: 7, Kills: 3, MaxAcks: 5,
		AfterKill: func(i int) error {
			if i != 2 {
				return nil
			}
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return os.Mkdir(dir, 0o755)
		},
	}
	st, err := l.Run(context.Background())
	require.Error(t, err)
	require.Contains(t, err.Error(), "seed 7, iteration 2")
	require.Contains(t, err.Error(), "lost")
	require.Equal(t, 2, st.Kills)
	require.Positive(t, st.LostAppends)
}

// TestKillLoop runs a few kills on each engine. Seed 11 draws, for its three
// kills, a kill 129ms after the child opened the store, one after 72
// acknowledgements and one after 16: at least 88 acknowledged appends must
// have been checked present.
func TestKillLoop(t *testing.T) {
	const minAcked = 72 + 16
	for _, engine := range torture.Engines {
		t.Run(engine, func(t *testing.T) {
			l := torture.KillLoop{Dir: filepath.Join(t.TempDir(), "store"), Backend: engine, Profile: torture.ProfileSmall, Seed: 11, Kills: 3}
			st, err := l.Run(context.Background())
			require.NoError(t, err)
			require.Equal(t, 3, st.Kills)
			require.Zero(t, st.KilledStartup, "seed 11 draws no kill during Open")
			require.GreaterOrEqual(t, st.AckedAppends, minAcked, "acknowledged appends checked: %v", st)
			require.GreaterOrEqual(t, st.AckedEvents, st.AckedAppends)
			require.Zero(t, st.LostAppends)
			require.Contains(t, st.String(), "lost appends=0")
		})
	}
}
