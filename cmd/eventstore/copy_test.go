package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/durablelog/eventstore/internal/dump"
	"github.com/stretchr/testify/require"
)

// The engines whose stores outlive a process.
var durableEngines = []string{"rocksdb", "pebble", "badger"}

// requireNoStaging checks that no staging directory was left beside dir.
func requireNoStaging(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	for _, e := range entries {
		require.NotContains(t, e.Name(), ".staging-", "a staging directory was left behind")
	}
}

func TestExportImport(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	makeStore(t, src, "rocksdb", 150, 0)
	want := readStore(t, src)
	srcHash := decode[verifyResult](t, ok(t, "", "verify", "-d", src, "--hash", "--json")).ContentHash

	file := filepath.Join(tmp, "events.esdump")
	ex := decode[exportResult](t, ok(t, "", "export", "-d", src, "-o", file, "--json"))
	require.Equal(t, uint64(150), ex.Head)
	require.Equal(t, srcHash, ex.ContentHash, "the dump's hash is the store's content hash")
	require.Positive(t, ex.Throughput.RecordsPerSec)
	fails(t, exitWrongDir, "export", "-d", src, "-o", file)
	ok(t, "", "export", "-d", src, "-o", file, "--force")

	chk := decode[importResult](t, ok(t, "", "import", "-i", file, "--check", "--json"))
	require.Equal(t, srcHash, chk.ContentHash)
	require.True(t, chk.Checked)

	// Into each engine; the default engine is the dump's.
	for _, engine := range append([]string{""}, durableEngines...) {
		dst := filepath.Join(tmp, "dst-"+engine)
		args := []string{"import", "-d", dst, "-i", file, "--json"}
		if engine != "" {
			args = append(args, "-b", engine)
		}
		res := decode[importResult](t, ok(t, "", args...))
		if engine == "" {
			engine = "rocksdb"
		}
		require.Equal(t, engine, res.Backend)
		require.Equal(t, srcHash, res.ContentHash)
		requireSameRecords(t, want, readStore(t, dst))
		require.Equal(t, srcHash, decode[verifyResult](t, ok(t, "", "verify", "-d", dst, "--hash", "--json")).ContentHash)
		requireNoStaging(t, dst)
	}

	// Through a pipe: export to stdout, import from stdin.
	piped := filepath.Join(tmp, "piped")
	exp := command("export", "-d", src, "-o", "-")
	imp := command("import", "-d", piped, "-i", "-", "-b", "pebble")
	pipe, err := exp.StdoutPipe()
	require.NoError(t, err)
	imp.Stdin = pipe
	var expErr, impOut strings.Builder
	exp.Stderr, imp.Stdout, imp.Stderr = &expErr, &impOut, &impOut
	require.NoError(t, exp.Start())
	require.NoError(t, imp.Run(), impOut.String())
	require.NoError(t, exp.Wait())
	require.Contains(t, expErr.String(), "exported 150 records")
	requireSameRecords(t, want, readStore(t, piped))

	// A target that is not empty is refused, whatever it holds.
	r := fails(t, exitWrongDir, "import", "-d", piped, "-i", file)
	require.Contains(t, r.stderr, "holds a store")
	other := filepath.Join(tmp, "other")
	require.NoError(t, os.MkdirAll(other, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(other, "notes.txt"), nil, 0o644))
	require.Contains(t, fails(t, exitWrongDir, "import", "-d", other, "-i", file).stderr, "notes.txt")
	// An empty directory is fine.
	empty := filepath.Join(tmp, "empty")
	require.NoError(t, os.MkdirAll(empty, 0o755))
	ok(t, "", "import", "-d", empty, "-i", file, "-b", "pebble")
	requireSameRecords(t, want, readStore(t, empty))
	fails(t, exitUsage, "import", "-d", filepath.Join(tmp, "m"), "-i", file, "-b", "memory")
}

func TestImportRefusesDamagedDump(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	makeStore(t, src, "pebble", 100, 0)
	file := filepath.Join(tmp, "events.esdump")
	ok(t, "", "export", "-d", src, "-o", file)
	good, err := os.ReadFile(file)
	require.NoError(t, err)

	cases := map[string][]byte{
		"flipped byte":   flip(good, len(good)/2),
		"flipped header": flip(good, 12),
		"truncated":      good[:len(good)-10],
		"no trailer":     good[:len(good)-(1+1+56+4)],
		"trailing bytes": append(append([]byte{}, good...), '\n'),
		"not a dump":     []byte("{\"offset\":1}\n"),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.esdump")
			require.NoError(t, os.WriteFile(bad, b, 0o644))
			dst := filepath.Join(t.TempDir(), "dst")
			r := fails(t, exitCorrupt, "import", "-d", dst, "-i", bad)
			require.Contains(t, r.stderr, "damaged dump at byte")
			if name != "not a dump" && name != "flipped header" {
				require.Contains(t, r.stderr, "nothing was imported")
			}
			_, err := os.Stat(dst)
			require.True(t, os.IsNotExist(err), "the target is untouched")
			requireNoStaging(t, dst)
			fails(t, exitCorrupt, "import", "-i", bad, "--check")
		})
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 0x20
	return c
}

// TestMigrateEveryPair migrates between every pair of engines, and checks
// the records are identical and the snapshots copied.
func TestMigrateEveryPair(t *testing.T) {
	tmp := t.TempDir()
	for _, from := range durableEngines {
		src := filepath.Join(tmp, "src-"+from)
		makeStore(t, src, from, 60, 15)
		want := readStore(t, src)
		srcSnaps := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", src, "--json"))
		require.NotEmpty(t, srcSnaps)
		for _, to := range durableEngines {
			t.Run(from+"-to-"+to, func(t *testing.T) {
				dst := filepath.Join(tmp, from+"-to-"+to)
				res := decode[migrateResult](t, ok(t, "", "migrate", "-d", src, "--to", to, "--dest", dst, "--json"))
				require.Equal(t, from, res.SourceBackend)
				require.Equal(t, to, res.DestBackend)
				require.Equal(t, uint64(60), res.Head)
				require.Equal(t, uint64(60), res.Copy.Records)
				require.Positive(t, res.Copy.RecordsPerSec)
				require.Equal(t, len(srcSnaps), res.Snapshots)
				requireSameRecords(t, want, readStore(t, dst))
				v := decode[verifyResult](t, ok(t, "", "verify", "-d", dst, "--hash", "--json"))
				require.Equal(t, res.ContentHash, v.ContentHash)
				require.Len(t, v.Snapshots, len(srcSnaps))
				requireNoStaging(t, dst)
				st := decode[statResult](t, ok(t, "", "stat", "-d", dst, "--json", "--fast"))
				require.Equal(t, to, st.Backend)
				require.Equal(t, uint64(1), st.Generation, "a migrated store keeps its source's generation")
			})
		}
	}
	r := ok(t, "", "migrate", "-d", filepath.Join(tmp, "src-pebble"), "--to", "badger", "--dest", filepath.Join(tmp, "text"), "--no-snapshots")
	require.Contains(t, r.stdout, "migrated 60 records")
	require.Contains(t, r.stdout, "records/s")
	require.Contains(t, r.stdout, "snapshots 0 copied")
	fails(t, exitWrongDir, "migrate", "-d", filepath.Join(tmp, "src-pebble"), "--to", "badger", "--dest", filepath.Join(tmp, "text"))
	fails(t, exitUsage, "migrate", "-d", filepath.Join(tmp, "src-pebble"), "--to", "memory", "--dest", filepath.Join(tmp, "mem"))
}

func TestBackupRestore(t *testing.T) {
	for _, tc := range []struct{ engine, method string }{
		{"pebble", dump.MethodCheckpoint},
		{"rocksdb", dump.MethodCheckpoint},
		{"badger", dump.MethodDump},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			tmp := t.TempDir()
			src := filepath.Join(tmp, "src")
			makeStore(t, src, tc.engine, 80, 20)
			want := readStore(t, src)
			bk := filepath.Join(tmp, "backup")
			res := decode[backupResult](t, ok(t, "", "backup", "-d", src, "--dest", bk, "--json"))
			require.Equal(t, tc.method, res.Method)
			require.Equal(t, uint64(80), res.Head)
			require.Positive(t, res.Snapshots)
			fails(t, exitWrongDir, "backup", "-d", src, "--dest", bk)

			dst := filepath.Join(tmp, "restored")
			rr := decode[restoreResult](t, ok(t, "", "restore", "--from", bk, "-d", dst, "--json"))
			require.Equal(t, tc.engine, rr.Backend)
			require.Equal(t, res.Snapshots, rr.Snapshots)
			require.Equal(t, uint64(2), rr.Generation, "a restored store starts a new generation")
			requireSameRecords(t, want, readStore(t, dst))
			st := decode[statResult](t, ok(t, "", "stat", "-d", dst, "--json", "--fast"))
			require.Equal(t, uint64(2), st.Generation)
			ok(t, "", "verify", "-d", dst)
			requireNoStaging(t, dst)
			fails(t, exitWrongDir, "restore", "--from", bk, "-d", dst)

			if tc.method == dump.MethodCheckpoint {
				require.Contains(t, fails(t, exitUsage, "restore", "--from", bk, "-d", filepath.Join(tmp, "x"), "-b", "badger").stderr, "migrate")
			} else {
				// A dump backup restores on any engine.
				other := filepath.Join(tmp, "restored-pebble")
				ok(t, "", "restore", "--from", bk, "-d", other, "-b", "pebble")
				requireSameRecords(t, want, readStore(t, other))
				// A damaged dump is refused.
				f := filepath.Join(bk, dump.DumpFileName)
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(f, flip(b, len(b)/3), 0o644))
				dst2 := filepath.Join(tmp, "r2")
				require.Contains(t, fails(t, exitCorrupt, "restore", "--from", bk, "-d", dst2).stderr, "damaged dump")
				_, err = os.Stat(dst2)
				require.True(t, os.IsNotExist(err))
			}
			// A backup without its manifest is unfinished, and refused.
			require.NoError(t, os.Remove(filepath.Join(bk, dump.ManifestName)))
			require.Contains(t, fails(t, exitWrongDir, "restore", "--from", bk, "-d", filepath.Join(tmp, "r3")).stderr, "unfinished")
		})
	}
}
