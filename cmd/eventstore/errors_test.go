package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/internal/snapfile"
	"github.com/stretchr/testify/require"
)

// TestCommandLineErrors: each wrong command line fails with its exit code
// and a message that says what is wrong, and changes nothing.
func TestCommandLineErrors(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "s")
	ok(t, "", "append", "-d", dir, "-b", "pebble", "-s", "a", "-t", "T")
	empty := filepath.Join(tmp, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	file := filepath.Join(tmp, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	dumpFile := filepath.Join(tmp, "d.esdump")
	ok(t, "", "export", "-d", dir, "-o", dumpFile)

	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"", []string{"append", "-d", dir, "-t", "T"}, exitUsage, "--stream is required"},
		{"", []string{"append", "-s", "a", "-t", "T"}, exitUsage, "--dir is required"},
		{"", []string{"append", "-d", dir, "-s", "a", "--data", "x"}, exitUsage, "need --type"},
		{"", []string{"append", "-d", dir, "-s", "a", "-t", "T", "--data", "x", "--data-file", file}, exitUsage, "give --data or --data-file, not both"},
		{"", []string{"append", "-d", dir, "-s", "a", "-t", "T", "--meta", "novalue"}, exitUsage, `--meta "novalue": write KEY=VALUE`},
		{"", []string{"append", "-d", dir, "-s", "a", "-t", "T", "--data-file", filepath.Join(tmp, "missing")}, exitError, "read --data-file"},
		{`{"type":"T","data":1,"data_base64":"AA=="}`, []string{"append", "-d", dir, "-s", "a"}, exitUsage, `give "data" or "data_base64", not both`},
		{"", []string{"append", "-d", dir, "-s", "new", "-t", "T", "-e", "exists"}, exitConflict, "new"},
		{"", []string{"backup", "-d", dir}, exitUsage, "--dest is required"},
		{"", []string{"backup", "-d", dir, "--dest", filepath.Join(file, "b")}, exitError, "not a directory"},
		{"", []string{"export", "-d", dir}, exitUsage, "--out is required"},
		{"", []string{"export", "-d", dir, "-o", "-", "--json"}, exitUsage, "--json with --out -"},
		{"", []string{"export", "-d", dir, "-o", filepath.Join(tmp, "missing", "d.esdump")}, exitError, "create the dump beside"},
		{"", []string{"export", "-d", dir, "-o", filepath.Join(file, "d.esdump")}, exitError, "not a directory"},
		{"", []string{"export", "-d", empty, "-o", filepath.Join(tmp, "e.esdump")}, exitWrongDir, "holds no store"},
		{"", []string{"import", "-d", filepath.Join(tmp, "i")}, exitUsage, "--in is required"},
		{"", []string{"import", "-d", filepath.Join(tmp, "i"), "-i", filepath.Join(tmp, "missing")}, exitError, "open the dump"},
		{"", []string{"import", "-i", dumpFile}, exitUsage, "--dir is required"},
		{"", []string{"import", "-d", filepath.Join(file, "i"), "-i", dumpFile}, exitError, "import target " + filepath.Join(file, "i")},
		{"", []string{"import", "-d", filepath.Join(tmp, "i"), "-i", dumpFile, "-b", "nosuch"}, exitUsage, "unknown backend"},
		{"", []string{"restore", "-d", filepath.Join(tmp, "r")}, exitUsage, "--from is required"},
		{"", []string{"restore", "--from", empty}, exitUsage, "--dir is required"},
		{"", []string{"restore", "--from", empty, "-d", filepath.Join(tmp, "r"), "-b", "postgres"}, exitUsage, "works on the embedded engines only"},
		{"", []string{"restore", "--from", empty, "-d", filepath.Join(tmp, "r")}, exitWrongDir, "has no BACKUP file"},
		{"", []string{"read", "-d", dir, "--limit", "-1"}, exitUsage, "--limit -1"},
		{"", []string{"read", "-d", dir, "--follow", "--poll", "0s"}, exitUsage, "--poll 0s"},
		{"", []string{"read", "--follow"}, exitUsage, "--dir is required"},
		{"", []string{"read", "-d", empty, "--follow"}, exitWrongDir, "no store in the directory: " + empty + " holds no store (no STORE file)"},
		{"", []string{"read", "-d", dir, "--follow", "-b", "badger"}, exitWrongDir, `holds a "pebble" store`},
		{"", []string{"migrate", "-d", dir, "--to", "pebble", "--dest", dir + "/"}, exitUsage, "--dest is --dir"},
		{"", []string{"migrate", "-d", dir, "--to", "nosuch", "--dest", filepath.Join(tmp, "m")}, exitUsage, "unknown backend"},
		{"", []string{"migrate", "-d", dir, "--to", "postgres", "--dest", dir}, exitUsage, "--dest is --dir: the local directory of the store on PostgreSQL is a new one"},
		{"", []string{"migrate", "-d", dir, "--to", "postgres", "--dest", tmp}, exitWrongDir, "--dest " + tmp + " is not empty"},
		{"", []string{"migrate", "-d", empty, "--to", "postgres"}, exitWrongDir, empty + " holds no store"},
		{"", []string{"migrate", "-d", empty, "--to", "badger", "--dest", filepath.Join(tmp, "m")}, exitWrongDir, empty + " holds no store"},
		{"", []string{"import", "-i", dumpFile, "-b", "postgres", "-d", tmp}, exitWrongDir, "import target " + tmp + " is not empty"},
		{"", []string{"backup", "-d", empty, "--dest", filepath.Join(tmp, "b")}, exitWrongDir, empty + " holds no store"},
		{"", []string{"stat", "-d", empty, "-b", "postgres"}, exitWrongDir, "for a store on PostgreSQL, drop --dir"},
		{"", []string{"snapshot", "prune", "-d", empty}, exitWrongDir, empty + " holds no store"},
		{"", []string{"append", "-d", filepath.Join(file, "s"), "-s", "a", "-t", "T"}, exitError, "not a directory"},
		{"", []string{"append", "-d", dir, "-b", "badger", "-s", "a", "-t", "T"}, exitWrongDir, `holds a "pebble" store`},
		{"", []string{"bench", "-b", "memory", "--backends", "memory", "--workloads", "no-such-workload", "--out", filepath.Join(tmp, "bench"), "--log", "--progress", "always"}, exitError, `no workload matches the filter "no-such-workload"`},
		{"", []string{"bench", "--rewrite", "--out", empty}, exitError, filepath.Join(empty, "results.json")},
		{"", []string{"bench", "-b", "memory", "--events", "0"}, exitUsage, "--events, --batch, --writers and --streams must be at least 1"},
		{"", []string{"bench", "-b", "postgres"}, exitUsage, "works on the embedded engines only"},
		{"", []string{"snapshot", "list"}, exitUsage, "--dir is required"},
		{"", []string{"snapshot", "list", "-d", empty}, exitWrongDir, "no store in the directory: " + empty + " holds no store (no STORE file)"},
		{"", []string{"snapshot", "frobnicate"}, exitUsage, `unknown command "frobnicate" for "eventstore snapshot"`},
		{"", []string{"stat", "-d", dir, "--cpuprofile", filepath.Join(tmp, "missing", "cpu")}, exitError, "--cpuprofile"},
		{"", []string{"stat", "-d", dir, "--dsn", "postgres://x"}, exitUsage, "--dsn and --schema name a PostgreSQL store, and this store is on pebble"},
	} {
		r := cli(t, tc.stdin, tc.args...)
		require.Equal(t, tc.code, r.code, "eventstore %s\n%s", strings.Join(tc.args, " "), r)
		require.Contains(t, r.stderr, tc.msg, "eventstore %s", strings.Join(tc.args, " "))
		if tc.code == exitUsage {
			require.Contains(t, r.stderr, "--help", "a usage error points at the help")
		}
	}
	// Nothing was created by the failures.
	for _, p := range []string{filepath.Join(tmp, "i"), filepath.Join(tmp, "r"), filepath.Join(tmp, "m"), filepath.Join(tmp, "e.esdump"), filepath.Join(tmp, "b"), filepath.Join(tmp, "bench")} {
		_, err := os.Stat(p)
		require.True(t, os.IsNotExist(err), p)
	}
	require.Len(t, jsonLines(t, ok(t, "", "read", "-d", dir, "--json").stdout), 1, "the failed appends wrote nothing")
}

func TestCPUProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, "pebble", 5, 0)
	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	ok(t, "", "stat", "-d", dir, "--cpuprofile", prof)
	b, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.True(t, len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b, "a gzipped pprof profile")
}

func TestAppendDataFile(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "s")
	file := filepath.Join(tmp, "blob")
	blob := []byte{0, 1, 2, 0xfe, 0xff}
	require.NoError(t, os.WriteFile(file, blob, 0o644))
	ok(t, "", "append", "-d", dir, "-b", "pebble", "-s", "a", "-t", "Blob", "--data-file", file, "-e", "none")
	ok(t, "piped\x00data", "append", "-d", dir, "-s", "a", "-t", "Piped", "--data-file", "-", "-e", "exists")
	recs := jsonLines(t, ok(t, "", "read", "-d", dir, "--json", "--base64").stdout)
	require.Len(t, recs, 2)
	require.Equal(t, blob, recs[0].DataBase64)
	require.Equal(t, []byte("piped\x00data"), recs[1].DataBase64)
	require.Equal(t, "Piped", recs[1].Type)

	// A new store without --backend is on the default engine.
	other := filepath.Join(tmp, "default")
	ok(t, "", "append", "-d", other, "-s", "a", "-t", "T")
	require.Equal(t, "rocksdb", decode[statResult](t, ok(t, "", "stat", "-d", other, "--fast", "--json")).Backend)
}

// TestTextOutputs: the commands' text reports (not --json) say what was
// done, with the numbers of the JSON form.
func TestTextOutputs(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	makeStore(t, src, "pebble", 40, 10)
	snaps := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", src, "--json"))
	require.NotEmpty(t, snaps)

	r := ok(t, "", "stat", "-d", src)
	require.Contains(t, r.stdout, "streams     4\n")
	require.Contains(t, r.stdout, fmt.Sprintf("snapshots   %d\n", len(snaps)))
	require.Contains(t, r.stdout, fmt.Sprintf("  offset %-10d", snaps[0].Offset))
	require.Contains(t, r.stdout, "recovery    opened at head 40")

	// backup and restore, by checkpoint.
	bk := filepath.Join(tmp, "bk")
	r = ok(t, "", "backup", "-d", src, "--dest", bk)
	require.Contains(t, r.stdout, fmt.Sprintf("backed up %s (pebble) into %s: checkpoint, 40 records up to offset 40, %d snapshot(s)", src, bk, len(snaps)))
	require.Contains(t, r.stdout, "restore it with: eventstore restore --from "+bk+" --dir NEW_DIR\n")
	require.NotContains(t, r.stdout, "content hash", "a checkpoint has no content hash")
	dst := filepath.Join(tmp, "restored")
	r = ok(t, "", "restore", "--from", bk, "-d", dst)
	require.Contains(t, r.stdout, fmt.Sprintf("restored %s (engine checkpoint) into %s (pebble): 40 records up to offset 40, verified; %d snapshot(s); generation 2\n", bk, dst, len(snaps)))

	// export, import --check and import.
	file := filepath.Join(tmp, "d.esdump")
	r = ok(t, "", "export", "-d", src, "-o", file)
	require.Contains(t, r.stdout, "exported 40 records up to offset 40 to "+file+"\n")
	hash := decode[verifyResult](t, ok(t, "", "verify", "-d", src, "--hash", "--json")).ContentHash
	require.Contains(t, r.stdout, "content hash "+hash+"\n")
	r = ok(t, "", "import", "-i", file, "--check")
	require.Contains(t, r.stdout, "dump ok: 40 records up to offset 40, exported from pebble at ")
	require.Contains(t, r.stdout, "content hash "+hash+"\n")
	require.NotContains(t, r.stdout, "checks ")
	imported := filepath.Join(tmp, "imported")
	r = ok(t, "", "import", "-i", file, "-d", imported, "-b", "badger")
	require.Contains(t, r.stdout, "imported 40 records up to offset 40 into "+imported+" (badger)\n")
	require.Contains(t, r.stdout, "checks       the new store verified, content hash matched")

	// A dump backup (badger has no checkpoint) prints its content hash.
	bk2 := filepath.Join(tmp, "bk2")
	r = ok(t, "", "backup", "-d", imported, "--dest", bk2)
	require.Contains(t, r.stdout, "dump, 40 records up to offset 40")
	require.Contains(t, r.stdout, "content hash "+hash+"\n")
	dst2 := filepath.Join(tmp, "restored2")
	r = ok(t, "", "restore", "--from", bk2, "-d", dst2)
	require.Contains(t, r.stdout, "(dump of the records) into "+dst2+" (badger)")

	// A store without snapshots, and a prune that would remove some.
	r = ok(t, "", "snapshot", "list", "-d", imported)
	require.Equal(t, "no snapshots in "+filepath.Join(imported, "snapshots")+"\n", r.stdout)
	r = ok(t, "", "snapshot", "prune", "-d", src, "--keep", "1", "--dry-run")
	require.Contains(t, r.stdout, "would remove "+snaps[len(snaps)-1].File+"\n")
	require.Contains(t, r.stdout, fmt.Sprintf("kept 1 snapshot(s), would remove %d file(s)\n", len(snaps)-1))
	require.Len(t, decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", src, "--json")), len(snaps), "a dry run removes nothing")
}

// TestRestoreRefusesBadBackups: a backup that lacks a part, or whose
// manifest does not match its dump, is refused with exit code 3 (or 6 for
// a manifest that is not one), and the target is not created.
func TestRestoreRefusesBadBackups(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	makeStore(t, src, "badger", 30, 0)
	dumpBackup := filepath.Join(tmp, "dump")
	require.Equal(t, dump.MethodDump, decode[backupResult](t, ok(t, "", "backup", "-d", src, "--dest", dumpBackup, "--json")).Method)
	pebbleSrc := filepath.Join(tmp, "psrc")
	makeStore(t, pebbleSrc, "pebble", 10, 0)
	ckptBackup := filepath.Join(tmp, "ckpt")
	require.Equal(t, dump.MethodCheckpoint, decode[backupResult](t, ok(t, "", "backup", "-d", pebbleSrc, "--dest", ckptBackup, "--json")).Method)

	editManifest := func(t *testing.T, dir string, edit func(m map[string]any)) {
		t.Helper()
		path := filepath.Join(dir, dump.ManifestName)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		edit(m)
		b, err = json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}
	copyBackup := func(t *testing.T, from string) string {
		t.Helper()
		to := filepath.Join(t.TempDir(), "backup")
		require.NoError(t, copyTree(from, to))
		return to
	}
	for _, tc := range []struct {
		name   string
		from   string
		break_ func(t *testing.T, dir string)
		code   int
		msg    string
	}{
		{"dump backup without its dump", dumpBackup, func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, dump.DumpFileName)))
		}, exitCorrupt, "the backup's dump"},
		{"dump backup whose manifest names another head", dumpBackup, func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["head"] = 29 })
		}, exitCorrupt, "the backup manifest names head 29"},
		{"dump backup whose manifest names another hash", dumpBackup, func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["content_hash"] = "sha256:00" })
		}, exitCorrupt, "and hash sha256:00, its dump holds head 30"},
		{"dump backup whose dump is not one", dumpBackup, func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, dump.DumpFileName), []byte("nope"), 0o644))
		}, exitCorrupt, "not an eventstore dump"},
		{"checkpoint without its engine", ckptBackup, func(t *testing.T, dir string) {
			require.NoError(t, os.RemoveAll(filepath.Join(dir, "engine")))
		}, exitCorrupt, "the checkpoint backup lacks engine"},
		{"checkpoint without its STORE file", ckptBackup, func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "STORE")))
		}, exitCorrupt, "the checkpoint backup lacks STORE"},
		{"checkpoint whose STORE file is damaged", ckptBackup, func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "STORE"), []byte("garbage"), 0o644))
		}, exitCorrupt, "the STORE file is damaged"},
		{"checkpoint whose snapshot directory is a file", ckptBackup, func(t *testing.T, dir string) {
			require.NoError(t, os.RemoveAll(filepath.Join(dir, "snapshots")))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "snapshots"), nil, 0o644))
		}, exitError, "list snapshots in "},
		{"manifest of an unknown method", ckptBackup, func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["method"] = "tar" })
		}, exitWrongDir, `names an unknown method "tar"`},
		{"manifest of a newer format", ckptBackup, func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["format"] = 2 })
		}, exitWrongDir, "has format 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := copyBackup(t, tc.from)
			tc.break_(t, from)
			dst := filepath.Join(t.TempDir(), "dst")
			r := fails(t, tc.code, "restore", "--from", from, "-d", dst)
			require.Contains(t, r.stderr, tc.msg)
			_, err := os.Stat(dst)
			require.True(t, os.IsNotExist(err), "the target is not created")
			requireNoStaging(t, dst)
		})
	}
	// A dump backup restores on any engine that keeps its store.
	dst := filepath.Join(tmp, "mem")
	require.Contains(t, fails(t, exitUsage, "restore", "--from", dumpBackup, "-d", dst, "-b", "memory").stderr, "keeps nothing")
	_, err := os.Stat(dst)
	require.True(t, os.IsNotExist(err))
}

// TestSnapshotFileProblems: list reports a snapshot whose header names
// another offset than its file name, leaves out a name that leads nowhere,
// and fails when the snapshot directory is not one.
func TestSnapshotFileProblems(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, "pebble", 20, 10)
	list := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", dir, "--json"))
	require.NotEmpty(t, list)
	snapDir := filepath.Join(dir, "snapshots")
	misnamed := filepath.Join(snapDir, snapfile.Name(list[0].Offset+1000))
	require.NoError(t, copyTree(list[0].File, misnamed))
	require.NoError(t, os.Symlink(filepath.Join(snapDir, "gone"), filepath.Join(snapDir, snapfile.Name(list[0].Offset+2000))))

	got := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", dir, "--json"))
	require.Len(t, got, len(list)+1, "the dangling name is left out")
	require.Equal(t, misnamed, got[0].File)
	require.False(t, got[0].Valid)
	require.Equal(t, fmt.Sprintf("the header says offset %d, the file name %d", list[0].Offset, list[0].Offset+1000), got[0].Problem)
	r := fails(t, exitCorrupt, "verify", "-d", dir)
	require.Contains(t, r.stderr, "snapshot "+misnamed+" is damaged")

	require.NoError(t, os.RemoveAll(snapDir))
	require.NoError(t, os.WriteFile(snapDir, nil, 0o644))
	for _, args := range [][]string{{"snapshot", "list"}, {"snapshot", "prune"}, {"stat", "--fast"}, {"verify"}} {
		r = fails(t, exitError, append(args, "-d", dir)...)
		require.Contains(t, r.stderr, snapDir, args)
		require.Contains(t, r.stderr, "not a directory", args)
	}
}

// TestReadDamagedStore: the reads that meet damage stop there with exit
// code 3, after the records before it.
func TestReadDamagedStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, "pebble", 20, 0)
	tamper(t, dir, "pebble", func(kv backend.KV) {
		v, found, err := kv.Get(record.LogKey(7))
		require.NoError(t, err)
		require.True(t, found)
		v[len(v)-2] ^= 0x10
		b := kv.NewBatch()
		b.Set(record.LogKey(7), v)
		require.NoError(t, b.Commit(true))
	})
	// --limit past the damage: the records before it, then the error.
	r := fails(t, exitCorrupt, "read", "-d", dir, "--limit", "10", "--json")
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 6)
	require.Equal(t, uint64(6), recs[5].Offset)
	require.Contains(t, r.stderr, "log offset 7")
	// A stream read that meets the damage.
	r = fails(t, exitCorrupt, "read", "-d", dir, "--stream", "stream-0")
	require.Contains(t, r.stderr, "log offset 7")
	// stat counts the streams, reading the whole log: it stops there too.
	r = fails(t, exitCorrupt, "stat", "-d", dir)
	require.Contains(t, r.stderr, "log offset 7")
	// read --follow stops on it too.
	r = fails(t, exitCorrupt, "read", "-d", dir, "--follow", "--poll", "10ms")
	require.Equal(t, 6, strings.Count(r.stdout, "\n"))
	require.Contains(t, r.stderr, "log offset 7")
}

// TestProgressOnALargerLog: the commands that go through a log of more
// than 4096 records move their progress bar on the way, and agree on its
// content hash.
func TestProgressOnALargerLog(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	const n = 4100
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, `{"type":"T","data":{"i":%d}}`+"\n", i)
	}
	require.Equal(t, appendResult{Stream: "s", Events: n, First: 1, Last: n, Version: n},
		decode[appendResult](t, ok(t, in.String(), "append", "-d", src, "-b", "pebble", "-s", "s", "--json")))

	v := decode[verifyResult](t, ok(t, "", "verify", "-d", src, "--hash", "--json", "--progress", "always"))
	require.Equal(t, uint64(n), v.Head)
	r := ok(t, "", "stat", "-d", src, "--progress", "always")
	require.Contains(t, r.stdout, "streams     1\n")
	require.Contains(t, r.stderr, "counting streams")

	file := filepath.Join(tmp, "d.esdump")
	ex := decode[exportResult](t, ok(t, "", "export", "-d", src, "-o", file, "--json", "--progress", "always"))
	require.Equal(t, v.ContentHash, ex.ContentHash)
	chk := decode[importResult](t, ok(t, "", "import", "-i", file, "--check", "--json", "--progress", "always"))
	require.Equal(t, v.ContentHash, chk.ContentHash)
	imp := decode[importResult](t, ok(t, "", "import", "-i", file, "-d", filepath.Join(tmp, "imported"), "--json", "--progress", "always"))
	require.Equal(t, uint64(n), imp.Head)
	require.Equal(t, v.ContentHash, imp.ContentHash)
}

// TestPruneFails: a snapshot name that cannot be removed (a non-empty
// directory) fails the prune with exit code 1 and names it; the valid
// snapshots are kept.
func TestPruneFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, "pebble", 20, 10)
	list := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", dir, "--json"))
	require.NotEmpty(t, list)
	stuck := filepath.Join(dir, "snapshots", snapfile.Name(1))
	require.NoError(t, os.MkdirAll(filepath.Join(stuck, "x"), 0o755))
	r := fails(t, exitError, "snapshot", "prune", "-d", dir, "--keep", "5")
	require.Contains(t, r.stderr, "remove "+stuck)
	after := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", dir, "--json"))
	require.Len(t, after, len(list)+1)
	for _, s := range after[:len(list)] {
		require.True(t, s.Valid, s.File)
	}

	// --broken on a store without a snapshot directory removes nothing.
	other := filepath.Join(t.TempDir(), "o")
	makeStore(t, other, "pebble", 3, 0)
	pr := decode[pruneResult](t, ok(t, "", "snapshot", "prune", "-d", other, "--broken", "--json"))
	require.Equal(t, pruneResult{Kept: []string{}, Removed: []string{}}, pr)
}

// TestBenchDefaultEngine: bench without --backend measures the default
// engine.
func TestBenchDefaultEngine(t *testing.T) {
	res := decode[benchResult](t, ok(t, "", "bench", "--events", "20", "--batch", "5", "--writers", "1", "--streams", "2", "--json"))
	require.Equal(t, "rocksdb", res.Backend)
	require.Equal(t, 20, res.Events)
}

// TestEmptyStore: a store without records exports, imports and migrates.
func TestEmptyStore(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	makeStore(t, src, "pebble", 0, 0)
	file := filepath.Join(tmp, "d.esdump")
	ex := decode[exportResult](t, ok(t, "", "export", "-d", src, "-o", file, "--json"))
	require.Zero(t, ex.Head)
	imp := decode[importResult](t, ok(t, "", "import", "-i", file, "-d", filepath.Join(tmp, "imported"), "--json"))
	require.Zero(t, imp.Head)
	require.Equal(t, ex.ContentHash, imp.ContentHash)
	mig := decode[migrateResult](t, ok(t, "", "migrate", "-d", src, "--to", "badger", "--dest", filepath.Join(tmp, "migrated"), "--json"))
	require.Zero(t, mig.Copy.Records)
	require.Equal(t, ex.ContentHash, mig.ContentHash)
	require.Empty(t, ok(t, "", "read", "-d", filepath.Join(tmp, "migrated")).stdout)
}

// TestBenchReport writes a comparison report of one small workload on the
// memory engine (forced: the machine may be busy).
func TestBenchReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report")
	r := ok(t, "", "bench", "--backends", "memory", "--workloads", "^append/sync/batch-100$", "--scale", "0.05", "--repeats", "1", "--out", out, "--force")
	require.Contains(t, r.stdout, "wrote "+filepath.Join(out, "report.md")+" in ")
	for _, f := range []string{"report.md", "results.json", "results.csv"} {
		fi, err := os.Stat(filepath.Join(out, f))
		require.NoError(t, err)
		require.Positive(t, fi.Size(), f)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	require.Contains(t, string(b), "append/sync/batch-100")

	// --rewrite writes the report again from its results.
	require.NoError(t, os.Remove(filepath.Join(out, "report.md")))
	r = ok(t, "", "bench", "--rewrite", "--out", out)
	require.Equal(t, "wrote "+filepath.Join(out, "report.md")+"\n", r.stdout)
	again, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	require.Equal(t, string(b), string(again), "the same results give the same report")
}
