package pebble

import (
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"
	"testing"

	cpebble "github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"
)

func TestModuleVersion(t *testing.T) {
	dep := func(path, version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: path, Version: version, Replace: replace}
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, fallbackPebbleVersion},
		{"no pebble", &debug.BuildInfo{Deps: []*debug.Module{dep("example.com/x", "v1.0.0", nil)}}, true, fallbackPebbleVersion},
		{"pebble", &debug.BuildInfo{Deps: []*debug.Module{dep(pebbleModule, "v2.9.9", nil)}}, true, "v2.9.9"},
		{"replaced", &debug.BuildInfo{Deps: []*debug.Module{dep(pebbleModule, "v2.1.7", dep("example.com/fork", "v2.1.8-fork", nil))}}, true, "v2.1.8-fork"},
		{"replaced by a directory", &debug.BuildInfo{Deps: []*debug.Module{dep(pebbleModule, "v2.1.7", dep("../pebble", "", nil))}}, true, "v2.1.7"},
		{"devel", &debug.BuildInfo{Deps: []*debug.Module{dep(pebbleModule, "(devel)", nil)}}, true, fallbackPebbleVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, moduleVersion(tc.bi, tc.ok))
		})
	}
	// The test binary carries build information with Pebble's version.
	bi, ok := debug.ReadBuildInfo()
	require.True(t, ok)
	for _, m := range bi.Deps {
		if m.Path == pebbleModule {
			require.Equal(t, m.Version, pebbleVersion())
		}
	}
}

func TestFatalf(t *testing.T) {
	var buf strings.Builder
	l := &slogLogger{l: slog.New(slog.NewTextHandler(&buf, nil)), info: slog.LevelDebug}
	cause := errors.New("disk on fire")
	err := func() (err error) {
		defer catchFatal(&err)
		l.Fatalf("write failed: %v", cause)
		return nil
	}()
	require.ErrorIs(t, err, cause)
	require.True(t, isFatal(err))
	require.EqualError(t, err, "pebble: fatal error: write failed: disk on fire")
	require.Contains(t, buf.String(), "level=ERROR")
	require.Contains(t, buf.String(), "write failed: disk on fire")

	// Other panics pass through.
	require.PanicsWithValue(t, "boom", func() {
		var err error
		defer catchFatal(&err)
		panic("boom")
	})
	require.False(t, isFatal(cause))
}

func TestEventListenerLevels(t *testing.T) {
	var buf strings.Builder
	logger := &slogLogger{l: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), info: slog.LevelDebug}
	el := eventListener(logger)
	el.DataCorruption(cpebble.DataCorruptionInfo{Path: "/db/000001.sst", Details: errors.New("checksum mismatch")})
	el.DiskSlow(cpebble.DiskSlowInfo{Path: "/db/000002.log"})
	el.LowDiskSpace(cpebble.LowDiskSpaceInfo{AvailBytes: 1})
	el.FlushBegin(cpebble.FlushInfo{})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 4)
	for _, l := range lines[:3] {
		require.Contains(t, l, "level=ERROR")
	}
	require.Contains(t, lines[0], "000001.sst")
	require.Contains(t, lines[3], "level=DEBUG")
}
