package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// The tests in this file call the command's functions in the test process:
// the paths that a run of the binary reaches only by accident.

func TestExitCode(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		code int
	}{
		{live, nil, exitOK},
		{live, withCode(exitConflict, errors.New("x")), exitConflict},
		{cancelled, fmt.Errorf("stopped: %w", context.Canceled), exitInterrupted},
		{live, fmt.Errorf("stopped: %w", context.Canceled), exitError},
		{live, fmt.Errorf("x: %w", eventstore.ErrCorrupt), exitCorrupt},
		{live, fmt.Errorf("x: %w", eventstore.ErrWrongExpectedVersion), exitConflict},
		{live, fmt.Errorf("x: %w", eventstore.ErrLocked), exitLocked},
		{live, fmt.Errorf("x: %w", eventstore.ErrBackendMismatch), exitWrongDir},
		{live, fmt.Errorf("x: %w", errNoStore), exitWrongDir},
		{live, fmt.Errorf("x: %w", errNotEmpty), exitWrongDir},
		{live, fmt.Errorf("x: %w", eventstore.ErrUnknownBackend), exitUsage},
		{live, errors.New("unknown flag: --frob"), exitUsage},
		{live, errors.New(`required flag(s) "dest" not set`), exitUsage},
		{live, errors.New("read: flag needs an argument: --dir"), exitUsage},
		{live, errors.New("disk on fire"), exitError},
		{cancelled, errors.New("disk on fire"), exitInterrupted},
	} {
		require.Equal(t, tc.code, exitCode(tc.ctx, tc.err), "%v", tc.err)
	}
	require.NoError(t, withCode(exitUsage, nil))
}

func TestIsCobraUsage(t *testing.T) {
	for msg, want := range map[string]bool{
		`unknown command "x" for "eventstore"`:    true,
		"unknown shorthand flag: 'q' in -q":       true,
		`invalid argument "x" for "--limit"`:      true,
		"accepts 1 arg(s), received 2":            true,
		"read: invalid argument \"x\" for \"-n\"": true,
		"if any flags in the group [a b] are set": true,
		"the store is unknown":                    false,
		"flagrant error":                          false,
	} {
		require.Equal(t, want, isCobraUsage(errors.New(msg)), msg)
	}
}

func TestBenchForced(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, " No ": false, "FALSE": false, "1": true, "yes": true, "true": true} {
		require.Equal(t, want, benchForced(v), "%q", v)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1 << 20: "1.0 MiB", 5 << 30: "5.0 GiB", 3 << 40: "3.0 TiB"} {
		require.Equal(t, want, formatBytes(n), "%d", n)
	}
}

func TestParseExpected(t *testing.T) {
	for s, want := range map[string]eventstore.ExpectedVersion{
		"any": eventstore.Any, "": eventstore.Any, "ANY": eventstore.Any,
		"exists": eventstore.StreamExists, "stream-exists": eventstore.StreamExists,
		"none": eventstore.NoStream, "no-stream": eventstore.NoStream, "nostream": eventstore.NoStream,
		"0": 0, "17": 17,
	} {
		got, err := parseExpected(s)
		require.NoError(t, err, s)
		require.Equal(t, want, got, s)
	}
	for _, s := range []string{"-1", "soon", "1.5"} {
		_, err := parseExpected(s)
		require.Equal(t, exitUsage, exitCode(context.Background(), err), s)
	}
}

func TestNewStoreBackend(t *testing.T) {
	for _, tc := range []struct{ flag, source, want string }{
		{"", "pebble", "pebble"},
		{"", "", eventstore.DefaultBackend},
		{"", "memory", eventstore.DefaultBackend},
		{"", postgres.Name, eventstore.DefaultBackend},
		{"", "an-engine-of-another-build", eventstore.DefaultBackend},
		{"badger", "pebble", "badger"},
	} {
		got, err := newStoreBackend(tc.flag, tc.source)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%+v", tc)
	}
	_, err := newStoreBackend("memory", "pebble")
	require.Equal(t, exitUsage, exitCode(context.Background(), err))
	_, err = newStoreBackend("nosuch", "pebble")
	require.ErrorIs(t, err, eventstore.ErrUnknownBackend)
}

func TestDescribeMethod(t *testing.T) {
	require.Equal(t, "engine checkpoint", describeMethod(eventstore.BackupCheckpoint))
	require.Equal(t, "dump of the records", describeMethod("dump"))
}

func TestAppendEventsFromFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data")
	require.NoError(t, os.WriteFile(file, []byte{0, 1, 0xff}, 0o644))

	evs, err := appendOptions{typ: "T", dataFile: file, meta: []string{"a=1", "b=x=y"}}.events(nil)
	require.NoError(t, err)
	require.Equal(t, []eventstore.Event{{Type: "T", Data: []byte{0, 1, 0xff}, Metadata: map[string]string{"a": "1", "b": "x=y"}}}, evs)
	evs, err = appendOptions{typ: "T", dataFile: "-", id: "i"}.events(bytes.NewReader([]byte("from stdin")))
	require.NoError(t, err)
	require.Equal(t, []eventstore.Event{{Type: "T", ID: "i", Data: []byte("from stdin")}}, evs)

	_, err = appendOptions{typ: "T", dataFile: filepath.Join(dir, "missing")}.events(nil)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "read --data-file")
	for _, o := range []appendOptions{
		{typ: "T", data: "x", dataFile: file},
		{typ: "T", meta: []string{"novalue"}},
		{typ: "T", meta: []string{"=v"}},
		{data: "x"},
		{id: "i"},
		{meta: []string{"a=b"}},
	} {
		_, err := o.events(bytes.NewReader(nil))
		require.Equal(t, exitUsage, exitCode(context.Background(), err), "%+v: %v", o, err)
	}
}

func TestReadEventsBothData(t *testing.T) {
	_, err := readEvents(bytes.NewReader([]byte(`{"type":"T","data":1,"data_base64":"AA=="}`)))
	require.ErrorContains(t, err, `event 1: give "data" or "data_base64", not both`)
	require.Equal(t, exitUsage, exitCode(context.Background(), err))
}

func TestStaging(t *testing.T) {
	root := t.TempDir()
	final := filepath.Join(root, "new", "store")
	st, err := newStaging(final, "target")
	require.NoError(t, err)
	require.Equal(t, filepath.Dir(final), filepath.Dir(st.dir), "the staging directory is beside the target")
	require.NoError(t, os.WriteFile(filepath.Join(st.dir, "STORE"), []byte("x"), 0o644))

	// Something appeared at the target meanwhile: the commit refuses it,
	// and the staged store stays where it is.
	require.NoError(t, os.MkdirAll(final, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(final, "intruder"), nil, 0o644))
	err = st.commit()
	require.ErrorIs(t, err, errNotEmpty)
	require.ErrorContains(t, err, `destination `+final+` is not empty (it holds "intruder")`)
	_, err = os.Stat(filepath.Join(st.dir, "STORE"))
	require.NoError(t, err)

	// An empty directory at the target is replaced.
	require.NoError(t, os.Remove(filepath.Join(final, "intruder")))
	require.NoError(t, st.commit())
	b, err := os.ReadFile(filepath.Join(final, "STORE"))
	require.NoError(t, err)
	require.Equal(t, "x", string(b))
	_, err = os.Stat(st.dir)
	require.ErrorIs(t, err, fs.ErrNotExist)

	// A target that holds a store says so.
	_, err = newStaging(final, "import target")
	require.ErrorIs(t, err, errNotEmpty)
	require.ErrorContains(t, err, "it holds a store")

	// An aborted staging leaves nothing.
	st, err = newStaging(filepath.Join(root, "other"), "target")
	require.NoError(t, err)
	st.abort()
	_, err = os.Stat(st.dir)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestCheckEmptyDestNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err := checkEmptyDest(file, "--dest")
	require.ErrorIs(t, err, syscall.ENOTDIR)
	require.ErrorContains(t, err, "--dest "+file)
	require.NoError(t, checkEmptyDest(filepath.Join(t.TempDir(), "new"), "--dest"))
}

func TestCopyTree(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "a", "b"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "a", "b", "f"), []byte("deep"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "top"), []byte("top"), 0o644))
	dst := filepath.Join(t.TempDir(), "copy")
	require.NoError(t, copyTree(src, dst))
	for rel, want := range map[string]string{"a/b/f": "deep", "top": "top"} {
		b, err := os.ReadFile(filepath.Join(dst, rel))
		require.NoError(t, err)
		require.Equal(t, want, string(b))
	}
	require.ErrorIs(t, copyTree(filepath.Join(src, "missing"), filepath.Join(t.TempDir(), "x")), fs.ErrNotExist)
	// A file where a directory of the copy belongs.
	blocked := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(blocked, "a"), nil, 0o644))
	require.ErrorIs(t, copyTree(src, blocked), syscall.ENOTDIR)
}

func TestCreateOutput(t *testing.T) {
	var stdout bytes.Buffer
	w, commit, abort, err := createOutput("-", &stdout)
	require.NoError(t, err)
	require.Same(t, &stdout, w)
	require.NoError(t, commit())
	abort()

	missing := filepath.Join(t.TempDir(), "missing", "d.esdump")
	_, _, _, err = createOutput(missing, &stdout)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "create the dump beside "+missing)

	// The rename onto a non-empty directory fails: the error names both.
	dir := t.TempDir()
	target := filepath.Join(dir, "d.esdump")
	require.NoError(t, os.MkdirAll(filepath.Join(target, "x"), 0o755))
	w, commit, abort, err = createOutput(target, &stdout)
	require.NoError(t, err)
	_, err = w.Write([]byte("dump"))
	require.NoError(t, err)
	err = commit()
	require.ErrorContains(t, err, " to "+target)
	abort()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, es, 1, "the temporary file is removed")
}

func TestCPUProfileFunctions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	a := &app{cpuProf: path}
	require.NoError(t, a.startProfile())
	// A second profile while one runs fails, and keeps the first.
	b := &app{cpuProf: filepath.Join(t.TempDir(), "second.pprof")}
	require.ErrorContains(t, b.startProfile(), "--cpuprofile")
	require.Nil(t, b.profFile)
	a.stopProfile()
	a.stopProfile() // again: nothing to do
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(data, []byte{0x1f, 0x8b}), "a gzipped profile")

	c := &app{cpuProf: filepath.Join(t.TempDir(), "missing", "cpu.pprof")}
	err = c.startProfile()
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "--cpuprofile")
	require.NoError(t, (&app{}).startProfile(), "no --cpuprofile: nothing to do")
}

func TestCommandName(t *testing.T) {
	root := newRootCmd(&app{})
	require.Equal(t, "eventstore", commandName(root))
	var list *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "snapshot" {
			list, _, _ = c.Find([]string{"list"})
		}
	}
	require.NotNil(t, list)
	require.Equal(t, "snapshot list", commandName(list))
}

func TestFollowHelpers(t *testing.T) {
	boom := errors.New("boom")
	require.Same(t, boom, endOfFollow(context.Background(), boom))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, endOfFollow(cancelled, boom), "an interrupted follow ends normally")

	// The fingerprint of the engine's files: stable, and different for a
	// directory that is gone.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	require.Equal(t, fingerprint(dir), fingerprint(dir))
	require.NotEqual(t, fingerprint(dir), fingerprint(filepath.Join(dir, "missing")))
	before := fingerprint(dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("xy"), 0o644))
	require.NotEqual(t, before, fingerprint(dir), "a commit changes the fingerprint")
}

func TestPostgresHelpers(t *testing.T) {
	require.NoError(t, wrapNotEmpty(nil))
	boom := errors.New("boom")
	require.Same(t, boom, wrapNotEmpty(boom))
	err := wrapNotEmpty(fmt.Errorf("move: %w", postgres.ErrSchemaNotEmpty))
	require.ErrorIs(t, err, errNotEmpty)
	require.ErrorIs(t, err, postgres.ErrSchemaNotEmpty)
	require.Equal(t, exitWrongDir, exitCode(context.Background(), err))

	require.Equal(t, `database "db" has no schema "s"`, describeNoStore(postgres.SchemaInfo{Database: "db", Schema: "s"}))
	require.Equal(t, `schema "s" of database "db" holds no store (it holds t1, t2)`, describeNoStore(postgres.SchemaInfo{Database: "db", Schema: "s", Exists: true, Others: []string{"t1", "t2"}}))
	require.Equal(t, `schema "s" of database "db" holds no store`, describeNoStore(postgres.SchemaInfo{Database: "db", Schema: "s", Exists: true}))

	require.Equal(t, eventstore.DefaultBackend, orDefault(""))
	require.Equal(t, "pebble", orDefault("pebble"))
	require.Empty(t, recordedBackend(""))

	// A temporary directory without a STORE file is named by its schema.
	a := &app{temporary: true, schema: "orders", dir: t.TempDir()}
	require.Equal(t, `postgres schema "orders"`, a.where())
	require.NoError(t, layout.WriteStore(a.dir, layout.Store{Format: layout.Format, Backend: postgres.Name, Location: "postgres db/orders"}))
	require.Equal(t, "postgres db/orders", a.where())
}

func TestProgressHelpers(t *testing.T) {
	var stderr bytes.Buffer
	a := &app{progress: "never", stdout: &stderr, stderr: &stderr}
	require.False(t, a.showProgress())
	require.Nil(t, a.newBar(10, "x", "rec"))
	a.progress = "auto"
	require.False(t, a.showProgress(), "a buffer is no terminal")
	a.progress = "always"
	b := a.newBar(0, "empty", "rec") // a total of 0 still draws a bar
	require.NotNil(t, b)
	b.add(1)
	b.done()
	require.Contains(t, stderr.String(), "empty")
	var nb *bar // every method of a nil bar does nothing
	nb.set(1)
	nb.add(1)
	nb.done()
	nb.stop()
}
