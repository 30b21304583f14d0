package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/lazyfs"
	"github.com/durablelog/eventstore/internal/pgtest"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// binary is the eventstore command under test, built once by TestMain, or
// the one that $EVENTSTORE_TEST_CLI names.
var binary string

// Two variables let a caller (make test) measure the command's coverage:
// EVENTSTORE_TEST_CLI names a command built beforehand, with go build -cover
// (and -race when the tests run with -race), to run instead of building one;
// EVENTSTORE_TEST_CLI_COVERDIR is the GOCOVERDIR of every run of it.
const (
	prebuiltEnv = "EVENTSTORE_TEST_CLI"
	coverDirEnv = "EVENTSTORE_TEST_CLI_COVERDIR"
)

func TestMain(m *testing.M) {
	lazyfs.MaybeRunServer() // a lazyfs server for TestRestorePowerCut: serve and exit
	tmp, err := os.MkdirTemp("", "eventstore-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(tmp, "eventstore")
	if err := buildCommand(); err != nil {
		fmt.Fprintf(os.Stderr, "build the eventstore command: %v\n", err)
		_ = os.RemoveAll(tmp)
		os.Exit(1)
	}
	goleak.VerifyTestMain(pgtest.Main(m), goleak.Cleanup(func(int) { _ = os.RemoveAll(tmp) }))
}

// buildCommand builds the command under test into binary, with -race when
// the tests run with it, or points binary at $EVENTSTORE_TEST_CLI.
func buildCommand() error {
	if prebuilt := os.Getenv(prebuiltEnv); prebuilt != "" {
		abs, err := filepath.Abs(prebuilt)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("$%s: %w", prebuiltEnv, err)
		}
		binary = abs
		return nil
	}
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// result is what one run of the command did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// childEnv is the environment of the command under test: no store or
// engine from the environment, no second of sleep at exit in race builds,
// and the coverage directory of a command built with -cover.
func childEnv() []string {
	env := append(os.Environ(), "EVENTSTORE_DIR=", "EVENTSTORE_BACKEND=", "GORACE=atexit_sleep_ms=0")
	if dir := os.Getenv(coverDirEnv); dir != "" {
		// After go test's own GOCOVERDIR, which the last value overrides.
		env = append(env, "GOCOVERDIR="+dir)
	}
	return env
}

// command returns the command under test with args, to start in the
// background.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = childEnv()
	return cmd
}

// syncBuffer is a buffer that a child process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the command with args and stdin, and returns what it did.
func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = childEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("run eventstore %q: %v", args, err)
	}
	return r
}

// ok runs the command and requires exit code 0.
func ok(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r := cli(t, stdin, args...)
	require.Equal(t, 0, r.code, "eventstore %s\n%s", strings.Join(args, " "), r)
	return r
}

// fails runs the command and requires the exit code.
func fails(t *testing.T, code int, args ...string) result {
	t.Helper()
	r := cli(t, "", args...)
	require.Equal(t, code, r.code, "eventstore %s\n%s", strings.Join(args, " "), r)
	return r
}

// decode parses the JSON output of a command.
func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v), "output:\n%s", r.stdout)
	return v
}

// jsonLines parses read --json output.
func jsonLines(t *testing.T, s string) []jsonRecord {
	t.Helper()
	var out []jsonRecord
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var r jsonRecord
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err, "output:\n%s", s)
		out = append(out, r)
	}
}

// sampleEvents is what makeStore appends: ids, metadata, binary and JSON
// data, several streams and multi-event appends.
func sampleEvents(n int) [][]eventstore.Event {
	var out [][]eventstore.Event
	for i := 0; i < n; {
		k := 1 + i%3
		var batch []eventstore.Event
		for j := 0; j < k && i < n; j++ {
			e := eventstore.Event{Type: fmt.Sprintf("Type%d", i%4), Data: []byte(fmt.Sprintf(`{"i":%d}`, i))}
			if i%2 == 0 {
				e.ID = fmt.Sprintf("id-%d", i)
			}
			if i%3 == 0 {
				e.Metadata = map[string]string{"i": fmt.Sprint(i), "bin\x01": "\xff\xfe"}
			}
			if i%5 == 0 {
				e.Data = []byte{0, 1, 2, 0xff, byte(i)}
			}
			batch = append(batch, e)
			i++
		}
		out = append(out, batch)
	}
	return out
}

// makeStore creates a store of the engine in dir with n events over a few
// streams, and with a state machine snapshotting every snapEvery events
// when snapEvery > 0.
func makeStore(t *testing.T, dir, engine string, n int, snapEvery uint64) {
	t.Helper()
	opts := []eventstore.Option{eventstore.WithBackend(engine)}
	if snapEvery > 0 {
		opts = append(opts, eventstore.WithStateMachine(&countState{}), eventstore.WithSnapshotPolicy(eventstore.EveryN(snapEvery)), eventstore.WithSnapshotRetention(10))
	}
	s, err := eventstore.Open(dir, opts...)
	require.NoError(t, err)
	for i, batch := range sampleEvents(n) {
		_, err := s.Append(context.Background(), fmt.Sprintf("stream-%d", i%4), eventstore.Any, batch...)
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
}

// readStore returns every record of the store in dir.
func readStore(t *testing.T, dir string) []eventstore.Record {
	t.Helper()
	s, err := eventstore.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	recs, err := s.ReadLog(context.Background(), 1, 0)
	require.NoError(t, err)
	return recs
}

// requireSameRecords checks that two stores' records are identical in
// every field.
func requireSameRecords(t *testing.T, want, got []eventstore.Record) {
	t.Helper()
	require.Equal(t, len(want), len(got), "record count")
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.Offset, g.Offset)
		require.Equal(t, w.Stream, g.Stream, "offset %d", w.Offset)
		require.Equal(t, w.Version, g.Version, "offset %d", w.Offset)
		require.Equal(t, w.ID, g.ID, "offset %d", w.Offset)
		require.Equal(t, w.Type, g.Type, "offset %d", w.Offset)
		require.True(t, bytes.Equal(w.Data, g.Data), "data of offset %d: %q vs %q", w.Offset, w.Data, g.Data)
		require.Equal(t, len(w.Metadata), len(g.Metadata), "offset %d", w.Offset)
		for k, v := range w.Metadata {
			require.Equal(t, v, g.Metadata[k], "metadata %q of offset %d", k, w.Offset)
		}
		require.True(t, w.Time.Equal(g.Time), "time of offset %d: %v vs %v", w.Offset, w.Time, g.Time)
	}
}

// tamper opens the engine of the closed store in dir directly and applies
// fn to it, as the conformance suite does.
func tamper(t *testing.T, dir, engine string, fn func(kv backend.KV)) {
	t.Helper()
	e, err := backend.Lookup(engine)
	require.NoError(t, err)
	kv, err := e.Open(filepath.Join(dir, "engine"), backend.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	fn(kv)
	require.NoError(t, kv.Close())
}

// countState is a small state machine: the number of events applied.
type countState struct{ n uint64 }

func (c *countState) Apply(eventstore.Record) error { c.n++; return nil }
func (c *countState) Snapshot(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%d\n", c.n)
	return err
}
func (c *countState) Restore(r io.Reader) error {
	_, err := fmt.Fscan(r, &c.n)
	return err
}
