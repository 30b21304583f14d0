package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/stretchr/testify/require"
)

func TestHelp(t *testing.T) {
	r := ok(t, "", "--help")
	require.Contains(t, r.stdout, "Exit codes:")
	for _, c := range []string{"append", "read", "stat", "verify", "snapshot list", "snapshot prune", "snapshot create", "export", "import", "migrate", "backup", "restore", "bench"} {
		r := ok(t, "", append(strings.Fields(c), "--help")...)
		require.Contains(t, r.stdout, "--dir", c)
		require.Contains(t, r.stdout, "--backend", c)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	ok(t, "", "append", "-d", dir, "-b", "pebble", "-s", "a", "-t", "T")

	fails(t, exitUsage)
	require.Contains(t, fails(t, exitUsage, "frobnicate").stderr, `unknown command "frobnicate"`)
	require.Contains(t, fails(t, exitUsage, "read", "-d", dir, "--bogus").stderr, "unknown flag: --bogus")
	require.Contains(t, fails(t, exitUsage, "read").stderr, "--dir is required")
	require.Contains(t, fails(t, exitUsage, "read", "-d", dir, "extra").stderr, "takes no arguments")
	require.Contains(t, fails(t, exitUsage, "read", "-d", dir, "-b", "nosuch").stderr, "unknown backend")
	require.Contains(t, fails(t, exitUsage, "read", "-d", dir, "--progress", "sometimes").stderr, "--progress")
	require.Contains(t, fails(t, exitUsage, "append", "-d", dir, "-s", "a", "-t", "T", "-e", "soon").stderr, "--expected-version")
	require.Contains(t, fails(t, exitUsage, "append", "-d", filepath.Join(t.TempDir(), "m"), "-b", "memory", "-s", "a", "-t", "T").stderr, "memory engine keeps nothing")
	require.Contains(t, fails(t, exitUsage, "snapshot").stderr, "name a command")
	require.Contains(t, fails(t, exitUsage, "snapshot", "create", "-d", dir).stderr, "Store.Snapshot")
	require.Contains(t, fails(t, exitUsage, "migrate", "-d", dir, "--to", "pebble").stderr, "--dest")

	require.Contains(t, fails(t, exitWrongDir, "read", "-d", t.TempDir()).stderr, "no store in the directory")
	require.Contains(t, fails(t, exitWrongDir, "stat", "-d", dir, "-b", "rocksdb").stderr, `holds a "pebble" store`)
}

func TestAppendAndRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	r := ok(t, "", "append", "-d", dir, "-b", "pebble", "-s", "account-1", "-t", "AccountOpened", "--id", "a1-1", "--data", `{"owner":"ada"}`, "-e", "none")
	require.Contains(t, r.stdout, "offsets 1-1, stream version 1")
	r = ok(t, "", "append", "-d", dir, "-s", "account-1", "-t", "Deposited", "--data", `{"amount":100}`, "--meta", "source=cli", "--meta", "k=v=w", "-e", "1", "--json")
	res := decode[appendResult](t, r)
	require.Equal(t, appendResult{Stream: "account-1", Events: 1, First: 2, Last: 2, Version: 2}, res)

	// A stale expected version: exit code 4, nothing written, the actual
	// version in the JSON output and the message.
	r = fails(t, exitConflict, "append", "-d", dir, "-s", "account-1", "-t", "Deposited", "--data", "{}", "-e", "1", "--json")
	require.Equal(t, conflictResult{Error: "wrong_expected_version", Stream: "account-1", Expected: 1, Actual: 2}, decode[conflictResult](t, r))
	require.Contains(t, r.stderr, "expected 1, stream is at 2")
	require.Contains(t, r.stderr, "--expected-version 2")

	// Events from stdin: one atomic append.
	in := `{"type":"Deposited","data":{"amount":5},"id":"d1"}
{"type":"Blob","data_base64":"AAEC/w==","metadata":{"m":"1"}}
`
	r = ok(t, in, "append", "-d", dir, "-s", "account-2", "-e", "none", "--json")
	require.Equal(t, appendResult{Stream: "account-2", Events: 2, First: 3, Last: 4, Version: 2}, decode[appendResult](t, r))
	require.Contains(t, fails(t, exitUsage, "append", "-d", dir, "-s", "x").stderr, "no events on stdin")
	r = cli(t, `{"tipe":"x"}`, "append", "-d", dir, "-s", "x")
	require.Equal(t, exitUsage, r.code, r)
	require.Contains(t, r.stderr, "unknown field")
	r = cli(t, `{"type":"x"}`+"\n"+`{"data":1}`, "append", "-d", dir, "-s", "x")
	require.Equal(t, exitUsage, r.code, r)
	require.Contains(t, r.stderr, `"type" is missing`)
	require.Contains(t, fails(t, exitUsage, "append", "-d", dir, "-s", strings.Repeat("x", 256), "-t", "T").stderr, "the limit is 255")

	// Text output.
	r = ok(t, "", "read", "-d", dir)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 4)
	require.Regexp(t, `^1  account-1 v1  AccountOpened  id=a1-1  \d{4}-\d\d-\d\dT[0-9:.]+Z  \{"owner":"ada"\}$`, lines[0])
	require.Regexp(t, `^2  account-1 v2  Deposited  id=-  .*  \{"amount":100\}$`, lines[1])
	require.Regexp(t, `^4  account-2 v2  Blob  id=-  .*  "\\x00\\x01\\x02\\xff"$`, lines[3])

	// JSON lines, with metadata and data.
	recs := jsonLines(t, ok(t, "", "read", "-d", dir, "--json").stdout)
	require.Len(t, recs, 4)
	require.Equal(t, map[string]string{"source": "cli", "k": "v=w"}, recs[1].Metadata)
	require.JSONEq(t, `{"amount":100}`, string(recs[1].Data))
	require.Equal(t, []byte{0, 1, 2, 0xff}, recs[3].DataBase64)
	require.Equal(t, "d1", recs[2].ID)
	for i, rec := range recs {
		require.Equal(t, uint64(i+1), rec.Offset)
	}
	recs = jsonLines(t, ok(t, "", "read", "-d", dir, "--json", "--base64", "--stream", "account-1", "--from", "2").stdout)
	require.Len(t, recs, 1)
	require.Equal(t, []byte(`{"amount":100}`), recs[0].DataBase64)

	// Ranges.
	require.Len(t, jsonLines(t, ok(t, "", "read", "-d", dir, "--json", "--from", "2", "--limit", "2").stdout), 2)
	recs = jsonLines(t, ok(t, "", "read", "-d", dir, "--json", "--last", "1").stdout)
	require.Equal(t, uint64(4), recs[0].Offset)
	recs = jsonLines(t, ok(t, "", "read", "-d", dir, "--json", "--stream", "account-1", "--last", "5").stdout)
	require.Len(t, recs, 2)
	require.Empty(t, ok(t, "", "read", "-d", dir, "--stream", "nobody").stdout)
	fails(t, exitUsage, "read", "-d", dir, "--from", "2", "--last", "1")
}

func TestFollow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	ok(t, "", "append", "-d", dir, "-b", "pebble", "-s", "a", "-t", "T", "--data", "1")
	ok(t, "", "append", "-d", dir, "-s", "b", "-t", "T", "--data", "2")

	// Follow the log until 5 records were printed, while three more are
	// appended by other processes.
	cmd := command("read", "-d", dir, "--follow", "--json", "--limit", "5", "--poll", "20ms")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() jsonRecord {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "read --follow ended early: %s", stderr.String())
			var r jsonRecord
			require.NoError(t, json.Unmarshal([]byte(l), &r))
			return r
		case <-time.After(30 * time.Second):
			t.Fatalf("read --follow printed nothing: %s", stderr.String())
		}
		return jsonRecord{}
	}
	require.Equal(t, uint64(1), next().Offset)
	require.Equal(t, uint64(2), next().Offset)
	for i := 3; i <= 5; i++ {
		ok(t, "", "append", "-d", dir, "-s", "a", "-t", "T", "--data", fmt.Sprint(i))
		r := next()
		require.Equal(t, uint64(i), r.Offset, "no gap and no duplicate")
		require.Equal(t, fmt.Sprint(i), string(r.Data))
	}
	_, more := <-lines
	require.False(t, more, "read --follow stops after --limit records")
	require.NoError(t, cmd.Wait(), stderr.String())

	// Following a stream from a version, ended by SIGINT: exit code 0.
	cmd = command("read", "-d", dir, "--follow", "--stream", "a", "--from", "3", "--poll", "20ms")
	out := &syncBuffer{}
	cmd.Stdout = out
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return strings.Count(out.String(), "\n") == 2 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, cmd.Wait())
	require.Contains(t, out.String(), "4  a v3  T")
	require.Contains(t, out.String(), "5  a v4  T")
}

func TestLockedStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, "pebble", 5, 0)
	s, err := eventstore.Open(dir)
	require.NoError(t, err)
	r := fails(t, exitLocked, "read", "-d", dir, "--lock-wait", "100ms")
	require.Contains(t, r.stderr, "in use by another store")
	require.Contains(t, r.stderr, "Store.Backup")

	// read --follow waits for the owner to close the store.
	cmd := command("read", "-d", dir, "--follow", "--limit", "5", "--poll", "20ms", "--lock-wait", "0s")
	out, errb := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errb
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return strings.Contains(errb.String(), "waiting") }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, s.Close())
	require.NoError(t, cmd.Wait(), errb.String())
	require.Equal(t, 5, strings.Count(out.String(), "\n"))
}

func TestStat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, "pebble", 40, 10)
	st := decode[statResult](t, ok(t, "", "stat", "-d", dir, "--json"))
	require.Equal(t, "pebble", st.Backend)
	require.Equal(t, uint64(40), st.Head)
	require.NotNil(t, st.Streams)
	require.Equal(t, uint64(4), *st.Streams)
	require.Positive(t, st.Size.Engine)
	require.Positive(t, st.Size.Snapshots)
	require.GreaterOrEqual(t, st.Size.Total, st.Size.Engine+st.Size.Snapshots)
	require.NotEmpty(t, st.Snapshots)
	require.True(t, st.Snapshots[0].Valid)
	require.Equal(t, uint64(40), st.Recovery.Head)
	require.False(t, st.Created.IsZero())

	r := ok(t, "", "stat", "-d", dir, "--fast")
	require.Contains(t, r.stdout, "head        40")
	require.NotContains(t, r.stdout, "streams")
	require.Contains(t, r.stdout, "backend     pebble")
}

func TestSnapshotListAndPrune(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, "pebble", 50, 10) // snapshots at 10, 20, 30, 40, 50 (about)
	list := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", dir, "--json"))
	require.GreaterOrEqual(t, len(list), 4)
	for i, s := range list {
		require.True(t, s.Valid, s.Problem)
		require.Positive(t, s.Size)
		if i > 0 {
			require.Less(t, s.Offset, list[i-1].Offset, "newest first")
		}
	}
	// Damage the newest: it is listed as damaged, verify fails on it, and
	// prune keeps the two newest valid ones.
	damageFile(t, list[0].File)
	list2 := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", dir, "--json"))
	require.False(t, list2[0].Valid)
	require.Contains(t, list2[0].Problem, "checksum")
	require.Contains(t, ok(t, "", "snapshot", "list", "-d", dir).stdout, "DAMAGED")
	r := fails(t, exitCorrupt, "verify", "-d", dir)
	require.Contains(t, r.stderr, "snapshot "+list[0].File+" is damaged")

	pr := decode[pruneResult](t, ok(t, "", "snapshot", "prune", "-d", dir, "--keep", "2", "--dry-run", "--json"))
	require.True(t, pr.DryRun)
	require.Equal(t, []string{list[1].File, list[2].File}, pr.Kept)
	require.Len(t, pr.Removed, len(list)-2)
	require.Len(t, decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", dir, "--json")), len(list), "a dry run removes nothing")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "snapshots", "snap-00000000000000000001.snap.broken"), []byte("x"), 0o644))
	r = ok(t, "", "snapshot", "prune", "-d", dir, "--keep", "2", "--broken")
	require.Contains(t, r.stdout, "kept 2 snapshot(s)")
	left := decode[[]snapshotInfo](t, ok(t, "", "snapshot", "list", "-d", dir, "--json"))
	require.Len(t, left, 2)
	require.Equal(t, list[1].Offset, left[0].Offset)
	_, err := os.Stat(filepath.Join(dir, "snapshots", "snap-00000000000000000001.snap.broken"))
	require.True(t, os.IsNotExist(err))
	ok(t, "", "verify", "-d", dir)
	fails(t, exitUsage, "snapshot", "prune", "-d", dir, "--keep", "0")
}

// damageFile flips a byte near the end of a file.
func damageFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)-1] ^= 0x55
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func TestVerifyDamagedStore(t *testing.T) {
	for _, engine := range []string{"pebble", "rocksdb", "badger"} {
		t.Run(engine, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s")
			makeStore(t, dir, engine, 20, 0)
			r := ok(t, "", "verify", "-d", dir, "--hash")
			require.Contains(t, r.stdout, "verify: ok: 20 records up to offset 20, 4 streams")
			require.Contains(t, r.stdout, "content hash: sha256:")

			// Flip a bit in the record at offset 7.
			tamper(t, dir, engine, func(kv backend.KV) {
				v, found, err := kv.Get(record.LogKey(7))
				require.NoError(t, err)
				require.True(t, found)
				v[len(v)-2] ^= 0x10
				b := kv.NewBatch()
				b.Set(record.LogKey(7), v)
				require.NoError(t, b.Commit(true))
			})
			r = fails(t, exitCorrupt, "verify", "-d", dir)
			require.Contains(t, r.stdout, "verify: FAILED: corruption at log offset 7")
			require.Contains(t, r.stderr, "log offset 7")
			res := decode[verifyResult](t, fails(t, exitCorrupt, "verify", "-d", dir, "--json"))
			require.False(t, res.OK)
			require.Equal(t, uint64(7), res.Offset)
			require.Equal(t, "log offset 7", res.Where)

			// Reads stop at the damage, after the records before it.
			r = fails(t, exitCorrupt, "read", "-d", dir)
			require.Equal(t, 6, strings.Count(r.stdout, "\n"))
			require.Contains(t, r.stderr, "log offset 7")
			// Export refuses to write a dump of a damaged store.
			out := filepath.Join(t.TempDir(), "d.esdump")
			fails(t, exitCorrupt, "export", "-d", dir, "-o", out)
			_, err := os.Stat(out)
			require.True(t, os.IsNotExist(err), "no dump file is left")
			fails(t, exitCorrupt, "migrate", "-d", dir, "--to", "pebble", "--dest", filepath.Join(t.TempDir(), "m"))
		})
	}
}

func TestVerifyMissingRecordAndDamagedHead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, "pebble", 10, 0)
	tamper(t, dir, "pebble", func(kv backend.KV) {
		b := kv.NewBatch()
		b.Delete(record.LogKey(4))
		require.NoError(t, b.Commit(true))
	})
	r := fails(t, exitCorrupt, "verify", "-d", dir)
	require.Contains(t, r.stdout, "log offset 4")

	// A damaged head fails the open itself: verify still names it.
	tamper(t, dir, "pebble", func(kv backend.KV) {
		v, _, err := kv.Get(record.LogKey(10))
		require.NoError(t, err)
		v[0] ^= 0xff
		b := kv.NewBatch()
		b.Set(record.LogKey(10), v)
		require.NoError(t, b.Commit(true))
	})
	res := decode[verifyResult](t, fails(t, exitCorrupt, "verify", "-d", dir, "--json"))
	require.Equal(t, uint64(10), res.Offset)
}

func TestProgressBar(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	makeStore(t, dir, "pebble", 50, 0)
	r := ok(t, "", "verify", "-d", dir, "--progress", "always")
	require.Contains(t, r.stderr, "verify")
	require.Contains(t, r.stdout, "verify: ok")
	r = ok(t, "", "verify", "-d", dir)
	require.Empty(t, r.stderr, "no bar when stdout is not a terminal")
}

func TestBench(t *testing.T) {
	r := ok(t, "", "bench", "-b", "memory", "--events", "2000", "--batch", "7", "--writers", "3", "--json")
	res := decode[benchResult](t, r)
	require.Equal(t, 2000, res.Events)
	require.Positive(t, res.EventsPerSec)
	require.Positive(t, res.AppendP99Usec+res.AppendP50Usec+1)

	dir := filepath.Join(t.TempDir(), "b")
	r = ok(t, "", "bench", "-b", "pebble", "-d", dir, "--events", "500", "--streams", "5", "--nosync")
	require.Contains(t, r.stdout, "events/s")
	require.Contains(t, r.stdout, "pebble, NoSync")
	st := decode[statResult](t, ok(t, "", "stat", "-d", dir, "--json"))
	require.Equal(t, uint64(500), st.Head)
	require.Equal(t, uint64(5), *st.Streams)
	fails(t, exitWrongDir, "bench", "-b", "pebble", "-d", dir, "--events", "10")
}

// exitOf returns the exit code cmd.Wait reported.
func exitOf(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

func TestInterruptedBench(t *testing.T) {
	cmd := command("bench", "-b", "pebble", "--events", "100000000", "--batch", "1", "--progress", "always")
	errb := &syncBuffer{}
	cmd.Stderr = errb
	require.NoError(t, cmd.Start())
	// The bar shows once the command runs, with its signal handler set.
	require.Eventually(t, func() bool { return strings.Contains(errb.String(), "bench") }, 30*time.Second, 5*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.Equal(t, exitInterrupted, exitOf(err))
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("bench did not stop on SIGINT")
	}
}
