package badger

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// writeManifest writes a badger MANIFEST holding sets, and returns the
// offset at which each set starts.
func writeManifest(t *testing.T, dir string, sets ...[]*pb.ManifestChange) []int64 {
	t.Helper()
	b := []byte{'B', 'd', 'g', 'r', 0, 0, 0, 8}
	var offsets []int64
	for _, changes := range sets {
		buf, err := proto.Marshal(&pb.ManifestChangeSet{Changes: changes})
		require.NoError(t, err)
		offsets = append(offsets, int64(len(b)))
		b = binary.BigEndian.AppendUint32(b, uint32(len(buf)))
		b = binary.BigEndian.AppendUint32(b, crc32.Checksum(buf, crc32.MakeTable(crc32.Castagnoli)))
		b = append(b, buf...)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "MANIFEST"), b, 0o644))
	return offsets
}

func create(id uint64, level uint32) *pb.ManifestChange {
	return &pb.ManifestChange{Id: id, Op: pb.ManifestChange_CREATE, Level: level}
}

func del(id uint64) *pb.ManifestChange {
	return &pb.ManifestChange{Id: id, Op: pb.ManifestChange_DELETE}
}

func touchTables(t *testing.T, dir string, ids ...uint64) {
	t.Helper()
	for _, id := range ids {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%06d.sst", id)), []byte("table"), 0o644))
	}
}

func manifestSize(t *testing.T, dir string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, "MANIFEST"))
	require.NoError(t, err)
	return fi.Size()
}

// TestRepairManifestAfterFlushes: the flushes whose tables' names a power cut
// lost are cut from the MANIFEST; what came before stays.
func TestRepairManifestAfterFlushes(t *testing.T) {
	dir := t.TempDir()
	offsets := writeManifest(t, dir,
		[]*pb.ManifestChange{create(1, 0)},
		[]*pb.ManifestChange{create(2, 6), create(3, 6), del(1)}, // a compaction
		[]*pb.ManifestChange{create(4, 0)},                       // a flush: its table is missing
		[]*pb.ManifestChange{create(5, 0)},                       // another, missing too
	)
	touchTables(t, dir, 2, 3)
	require.NoError(t, repairManifest(dir, slog.New(slog.DiscardHandler)))
	require.Equal(t, offsets[2], manifestSize(t, dir), "cut back to before the first flush whose table is missing")

	f, err := os.Open(filepath.Join(dir, "MANIFEST"))
	require.NoError(t, err)
	defer f.Close()
	sets, err := readChangeSets(f)
	require.NoError(t, err)
	require.Len(t, sets, 2)
}

// TestRepairManifestLeavesOtherDamage: a missing table followed by anything
// but the creation of missing tables is not the flush case: the MANIFEST
// stays as it is, and badger's Open reports it.
func TestRepairManifestLeavesOtherDamage(t *testing.T) {
	cases := map[string][][]*pb.ManifestChange{
		"compacted table":     {{create(1, 0)}, {create(2, 6), del(1)}, {create(3, 0)}},
		"table lost long ago": {{create(1, 0)}, {create(2, 0)}},
		"nothing missing":     {{create(1, 0)}},
	}
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeManifest(t, dir, sets...)
			switch name {
			case "compacted table":
				touchTables(t, dir, 3) // 2, written by a compaction, is missing
			case "table lost long ago":
				touchTables(t, dir, 2) // 1 is missing, but a later flush's table is there
			case "nothing missing":
				touchTables(t, dir, 1)
			}
			before := manifestSize(t, dir)
			require.NoError(t, repairManifest(dir, slog.New(slog.DiscardHandler)))
			require.Equal(t, before, manifestSize(t, dir))
		})
	}
}
