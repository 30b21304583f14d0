package postgres_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/stretchr/testify/require"
)

// The test binary is also the other processes of the multi-process tests:
// TestMain runs a child's role instead of the tests when childEnv holds its
// spec. A child talks to the test over its standard input and output, one
// JSON value a line each way.
const childEnv = "EVENTSTORE_PG_CHILD"

// childSpec says what a child does and where its store is.
type childSpec struct {
	Role   string          `json:"role"`
	Dir    string          `json:"dir"`
	DSN    string          `json:"dsn"`
	Schema string          `json:"schema"`
	Poll   time.Duration   `json:"poll,omitempty"`
	Args   json.RawMessage `json:"args,omitempty"`
}

// childRoles are the parts a child can play.
var childRoles = map[string]func(io *childIO, spec childSpec) error{
	"writer": writerChild,
	"reader": readerChild,
	"cmd":    cmdChild,
}

// childIO is a child's end of the conversation with the test.
type childIO struct {
	in  *json.Decoder
	mu  sync.Mutex
	out *json.Encoder
}

func (c *childIO) send(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Encode(v)
}

func (c *childIO) recv(v any) error { return c.in.Decode(v) }

// maybeRunChild runs the child's role and exits, when this process is a
// child.
func maybeRunChild() {
	raw, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child: bad spec:", err)
		os.Exit(2)
	}
	role, ok := childRoles[spec.Role]
	if !ok {
		fmt.Fprintf(os.Stderr, "child: unknown role %q\n", spec.Role)
		os.Exit(2)
	}
	cio := &childIO{in: json.NewDecoder(bufio.NewReader(os.Stdin)), out: json.NewEncoder(os.Stdout)}
	if err := role(cio, spec); err != nil {
		fmt.Fprintf(os.Stderr, "child %s in %s: %v\n", spec.Role, spec.Dir, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// open opens the child's store.
func (spec childSpec) open(extra ...eventstore.Option) (*eventstore.Store, error) {
	return openIn(spec.Dir, postgres.Options{DSN: spec.DSN, Schema: spec.Schema, PollInterval: spec.Poll}, extra...)
}

// childProc is the test's end of a child.
type childProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	enc    *json.Encoder
	lines  chan []byte
	stderr *syncBuffer
	exited chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// childTimeout bounds every wait for a child.
const childTimeout = 2 * time.Minute

// startChild starts a child with a store in a directory of its own under
// the test's temporary directory. args are the role's arguments. The child
// dies with the test binary, and is killed when the test ends if it still
// runs.
func startChild(t *testing.T, name string, env pgEnv, spec childSpec, args any) *childProc {
	t.Helper()
	if spec.Dir == "" {
		spec.Dir = filepath.Join(t.TempDir(), name)
	}
	if spec.DSN == "" {
		spec.DSN = env.dsn()
	}
	if spec.Schema == "" {
		spec.Schema = testSchema
	}
	if args != nil {
		raw, err := json.Marshal(args)
		require.NoError(t, err)
		spec.Args = raw
	}
	raw, err := json.Marshal(spec)
	require.NoError(t, err)
	exe, err := os.Executable()
	require.NoError(t, err)
	c := &childProc{t: t, name: name, lines: make(chan []byte, 64), stderr: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(exe, "-test.run=^$")
	// The race detector waits a second at exit for late reports by
	// default; a child has none to wait for once it returned.
	c.cmd.Env = append(os.Environ(), childEnv+"="+string(raw), "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=50")
	c.cmd.Stderr = c.stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c.stdin, err = c.cmd.StdinPipe()
	require.NoError(t, err)
	c.enc = json.NewEncoder(c.stdin)
	stdout, err := c.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, c.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			c.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(c.lines)
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			if s := c.stderr.String(); s != "" {
				t.Logf("stderr of child %s:\n%s", c.name, s)
			}
		}
	})
	return c
}

// send sends v to the child.
func (c *childProc) send(v any) {
	c.t.Helper()
	require.NoError(c.t, c.enc.Encode(v), "send to child %s", c.name)
}

// recv reads the child's next message into v.
func (c *childProc) recv(v any) {
	c.t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			<-c.exited
			c.t.Fatalf("child %s ended (%v) instead of answering:\n%s", c.name, c.err, c.stderr.String())
		}
		require.NoError(c.t, json.Unmarshal(line, v), "message of child %s: %s", c.name, line)
	case <-time.After(childTimeout):
		c.t.Fatalf("child %s did not answer within %v:\n%s", c.name, childTimeout, c.stderr.String())
	}
}

// call sends a request and returns the answer.
func call[T any](c *childProc, req any) T {
	c.t.Helper()
	c.send(req)
	var resp T
	c.recv(&resp)
	return resp
}

// wait closes the child's input and waits for it to exit, which must be a
// success.
func (c *childProc) wait() {
	c.t.Helper()
	_ = c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(childTimeout):
		c.t.Fatalf("child %s did not exit within %v:\n%s", c.name, childTimeout, c.stderr.String())
	}
	require.NoError(c.t, c.err, "child %s:\n%s", c.name, c.stderr.String())
}

// readJSONLines reads a file of JSON values, one a line.
func readJSONLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []T
	dec := json.NewDecoder(f)
	for {
		var v T
		err := dec.Decode(&v)
		if err == io.EOF {
			return out
		}
		require.NoError(t, err, "%s", path)
		out = append(out, v)
	}
}

// jsonArgs decodes a child's role arguments.
func jsonArgs(spec childSpec, v any) error {
	if err := json.Unmarshal(spec.Args, v); err != nil {
		return fmt.Errorf("role arguments: %w", err)
	}
	return nil
}

// encodeLine writes v as one line of JSON.
func encodeLine(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
