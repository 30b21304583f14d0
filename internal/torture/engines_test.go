package torture_test

import (
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/torture"
	_ "github.com/durablelog/eventstore/internal/torture/engines" // the durable engines and their profiles
	"github.com/stretchr/testify/require"
)

// TestEngineProfiles: importing internal/torture/engines registers every
// durable engine and its small profile; the memory engine runs the small
// profile with its defaults, and an unknown profile is an error.
func TestEngineProfiles(t *testing.T) {
	for _, e := range torture.Engines {
		_, err := backend.Lookup(e)
		require.NoError(t, err)
		cfg, err := torture.EngineConfig(e, torture.ProfileSmall)
		require.NoError(t, err)
		require.NotNil(t, cfg, e)
		cfg, err = torture.EngineConfig(e, torture.ProfileDefault)
		require.NoError(t, err)
		require.Nil(t, cfg, e)
	}
	cfg, err := torture.EngineConfig("memory", torture.ProfileSmall)
	require.NoError(t, err)
	require.Nil(t, cfg)
	_, err = torture.EngineConfig("pebble", "huge")
	require.ErrorContains(t, err, `unknown engine profile "huge"`)
	require.Panics(t, func() { torture.RegisterProfile("pebble", torture.ProfileSmall, nil) })
}
