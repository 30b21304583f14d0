package lazyfs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ServerEnv is the environment variable that makes a test binary serve a
// lazyfs: it holds the serverSpec as JSON. See MaybeRunServer.
const ServerEnv = "EVENTSTORE_LAZYFS_SERVER"

type serverSpec struct {
	Backing    string `json:"backing"`
	Mountpoint string `json:"mountpoint"`
	Verbose    bool   `json:"verbose,omitempty"`
	Ordered    bool   `json:"ordered,omitempty"`
}

// request is one command to a server, one JSON line on its stdin.
type request struct {
	Cmd   string `json:"cmd"` // rules, stats, sync, cut, unmount
	Rules []Rule `json:"rules,omitempty"`
}

// reply is the server's answer, one JSON line on its stdout.
type reply struct {
	OK    bool   `json:"ok"`
	Err   string `json:"err,omitempty"`
	Stats Stats  `json:"stats"`
}

// MaybeRunServer serves a lazyfs and exits when ServerEnv is set, and
// returns at once otherwise. Call it first in TestMain, in every test
// package that uses StartServer:
//
//	func TestMain(m *testing.M) {
//		lazyfs.MaybeRunServer()
//		...
//	}
func MaybeRunServer() {
	raw, ok := os.LookupEnv(ServerEnv)
	if !ok {
		return
	}
	os.Exit(runServer(raw))
}

func runServer(raw string) int {
	var spec serverSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "lazyfs server: decode %s: %v\n", ServerEnv, err)
		return 2
	}
	logger := log.New(os.Stderr, "lazyfs server: ", log.Lmicroseconds)
	o := Options{Logf: func(string, ...any) {}, Ordered: spec.Ordered}
	if spec.Verbose {
		o.Logf = logger.Printf
	}
	out := json.NewEncoder(os.Stdout)
	m, err := NewMount(spec.Backing, spec.Mountpoint, o)
	if err != nil {
		_ = out.Encode(reply{Err: err.Error()})
		return 1
	}
	if err := out.Encode(reply{OK: true}); err != nil {
		_, _ = m.Cut()
		return 1
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 16<<20)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			_ = out.Encode(reply{Err: fmt.Sprintf("decode %q: %v", in.Text(), err)})
			continue
		}
		var r reply
		switch req.Cmd {
		case "rules":
			m.FS.SetRules(req.Rules...)
			r = reply{OK: true}
		case "stats":
			r = reply{OK: true, Stats: m.FS.Stats()}
		case "sync":
			err := m.FS.SyncAll()
			r = reply{OK: err == nil, Stats: m.FS.Stats()}
			if err != nil {
				r.Err = err.Error()
			}
		case "cut":
			st, err := m.Cut()
			r = reply{OK: err == nil, Stats: st}
			if err != nil {
				r.Err = err.Error()
			}
			_ = out.Encode(r)
			return 0
		case "unmount":
			st := m.FS.Stats()
			err := m.Unmount()
			r = reply{OK: err == nil, Stats: st}
			if err != nil {
				r.Err = err.Error()
			}
			_ = out.Encode(r)
			return 0
		default:
			r = reply{Err: fmt.Sprintf("unknown command %q", req.Cmd)}
		}
		if err := out.Encode(r); err != nil {
			break
		}
	}
	// The parent is gone: cut the power rather than leave a mount behind.
	_, _ = m.Cut()
	return 0
}

// Server is a lazyfs served by a child process: the test binary, re-executed
// with ServerEnv set (see MaybeRunServer). The child dies with its parent
// (its standard input closes), cutting the power and unmounting.
type Server struct {
	Backing string
	Dir     string // the mount point

	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies *bufio.Scanner
	stderr  syncBuffer

	mu   sync.Mutex
	done bool
}

// StartServer mounts a lazyfs over backing at mountpoint, served by a child
// process, and returns once the mount is up.
func StartServer(backing, mountpoint string, verbose bool) (*Server, error) {
	return StartServerWith(backing, mountpoint, ServerOptions{Verbose: verbose})
}

// ServerOptions configure StartServerWith.
type ServerOptions struct {
	// Verbose copies the server's diagnostics to this process's stderr.
	Verbose bool
	// Ordered is Options.Ordered: a file's fsync also commits every
	// pending directory change, as on ext4.
	Ordered bool
}

// StartServerWith is StartServer with options.
func StartServerWith(backing, mountpoint string, o ServerOptions) (*Server, error) {
	verbose := o.Verbose
	if err := Available(); err != nil {
		return nil, err
	}
	b, err := filepath.Abs(backing)
	if err != nil {
		return nil, err
	}
	mp, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(serverSpec{Backing: b, Mountpoint: mp, Verbose: verbose, Ordered: o.Ordered})
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := &Server{Backing: b, Dir: mp}
	s.cmd = exec.Command(exe, "-test.run=^$")
	// A binary built with -race sleeps a second at exit by default:
	// every cut would pay it.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	s.cmd.Env = append(os.Environ(), ServerEnv+"="+string(raw), "GORACE="+gorace)
	s.cmd.Stderr = &s.stderr
	if verbose {
		s.cmd.Stderr = io.MultiWriter(&s.stderr, os.Stderr)
	}
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("lazyfs: start the server process: %w", err)
	}
	s.replies = bufio.NewScanner(stdout)
	s.replies.Buffer(make([]byte, 64<<10), 16<<20)
	if _, err := s.read(); err != nil {
		s.kill()
		return nil, fmt.Errorf("lazyfs: the server did not mount %s at %s: %w", b, mp, err)
	}
	return s, nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
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

// Stderr returns what the server wrote to its standard error.
func (s *Server) Stderr() string { return s.stderr.String() }

func (s *Server) read() (Stats, error) {
	if !s.replies.Scan() {
		err := s.replies.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return Stats{}, fmt.Errorf("no reply from the server (%v); its stderr: %s", err, s.Stderr())
	}
	var r reply
	if err := json.Unmarshal(s.replies.Bytes(), &r); err != nil {
		return Stats{}, fmt.Errorf("malformed reply %q: %v", s.replies.Text(), err)
	}
	if !r.OK {
		return r.Stats, errors.New(r.Err)
	}
	return r.Stats, nil
}

func (s *Server) call(req request) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return Stats{}, fmt.Errorf("lazyfs: the server of %s has stopped", s.Dir)
	}
	b, err := json.Marshal(req)
	if err != nil {
		return Stats{}, err
	}
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		return Stats{}, fmt.Errorf("lazyfs: send %s to the server: %w; its stderr: %s", req.Cmd, err, s.Stderr())
	}
	st, err := s.read()
	if err != nil {
		return st, fmt.Errorf("lazyfs: %s: %w", req.Cmd, err)
	}
	return st, nil
}

// SetRules replaces the fault-injection rules.
func (s *Server) SetRules(rules ...Rule) error {
	_, err := s.call(request{Cmd: "rules", Rules: rules})
	return err
}

// Stats returns the file system's counters and its unsynced state.
func (s *Server) Stats() (Stats, error) { return s.call(request{Cmd: "stats"}) }

// SyncAll makes everything durable, as sync(2) would.
func (s *Server) SyncAll() error {
	_, err := s.call(request{Cmd: "sync"})
	return err
}

// Cut cuts the power: it drops every unsynced write and directory change,
// unmounts, and stops the server. It returns what was dropped. The
// processes that used the mount should be dead.
func (s *Server) Cut() (Stats, error) { return s.stop("cut") }

// Unmount is a clean shutdown: it makes everything durable, unmounts, and
// stops the server.
func (s *Server) Unmount() error {
	_, err := s.stop("unmount")
	return err
}

func (s *Server) stop(cmd string) (Stats, error) {
	st, err := s.call(request{Cmd: cmd})
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	werr := s.wait(30 * time.Second)
	return st, errors.Join(err, werr)
}

// wait waits for the server to exit, kills it after d, and makes sure
// nothing stays mounted.
func (s *Server) wait(d time.Duration) error {
	_ = s.stdin.Close()
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(d):
		_ = s.cmd.Process.Kill()
		err = fmt.Errorf("lazyfs: the server of %s did not exit within %v; killed", s.Dir, d)
		<-exited
	}
	if derr := Detach(s.Dir); derr != nil {
		err = errors.Join(err, derr)
	}
	return err
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.wait(10 * time.Second)
}

// Close stops the server if it still runs, cutting the power, and makes
// sure nothing stays mounted. It is the test cleanup; it is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done {
		return nil
	}
	_, err := s.Cut()
	return err
}
