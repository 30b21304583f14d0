package torture

import (
	"fmt"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/conformance"
)

// The seams that let another test binary run the kill -9 loop on an engine
// that a name and a profile cannot describe (an unregistered engine, a
// configuration made by a function): the public conformance suite's
// RunCrash.

// Opener opens the store in dir, with sm as its state machine and the
// settings of Open (Sync durability, EveryN(SnapshotEvery) snapshots): in a
// workload child, and in the check after each kill. Open with the engine's
// options is the usual implementation.
type Opener func(dir string, sm *conformance.HashState) (*eventstore.Store, error)

// ChildCommand says how to start a child: the test binary's arguments, and
// the environment variable that carries the ChildSpec as JSON. The zero
// value is the package's own child: "-test.run=^$" and ChildEnv, which
// MaybeRunChild serves. A test binary that serves another variable calls
// RunWorkloadChild with the variable's value.
type ChildCommand struct {
	// Args are the test binary's arguments; nil means "-test.run=^$".
	Args []string
	// Env is the variable that carries the ChildSpec; "" means ChildEnv.
	Env string
	// Environ holds more "KEY=value" entries for the child's environment.
	Environ []string
}

// StartWorkloadChildWith is StartWorkloadChild with the child started by
// cmd.
func StartWorkloadChildWith(cmd ChildCommand, spec ChildSpec, sink Sink) (*Child, error) {
	spec.Mode = ModeWorkload
	return startChildCommand(spec, sink, cmd)
}

// RunWorkloadChild runs the part of a workload child in this process, and
// returns the exit code, when the process was started by
// StartWorkloadChildWith (or a KillLoop with a Command): raw is the value of
// the command's environment variable. open opens the store; the rest is as
// in a child of MaybeRunChild: it reports on file descriptor 3, runs the
// workload until it is killed, and exits when its standard input reaches
// EOF. The caller exits with the code.
func RunWorkloadChild(raw string, open Opener) int {
	return runChild(raw, open)
}

// workloadChildWith is workloadChild with open opening the store.
func workloadChildWith(spec ChildSpec, w *lineWriter, open Opener) int {
	sm := new(conformance.HashState)
	s, err := open(spec.Dir, sm)
	if err != nil {
		w.send(message{T: "error", Err: fmt.Sprintf("open: %v", err)})
		return 1
	}
	return runWorkload(spec, w, s)
}

func (l KillLoop) start(spec ChildSpec, sink Sink) (*Child, error) {
	if l.Command.Args == nil && l.Command.Env == "" && l.Command.Environ == nil {
		return StartWorkloadChild(spec, sink)
	}
	return StartWorkloadChildWith(l.Command, spec, sink)
}

func (l KillLoop) open(sm *conformance.HashState) (*eventstore.Store, error) {
	if l.Open != nil {
		return l.Open(l.Dir, sm)
	}
	opts, err := StoreOptions(l.Backend, l.Profile)
	if err != nil {
		return nil, err
	}
	return Open(l.Dir, sm, opts...)
}

// openKills returns how many of the 20 kill modes a KillLoop draws from kill
// the child while it opens the store.
func (l KillLoop) openKills() int {
	if l.OpenKillPercent <= 0 {
		return 2
	}
	return min(l.OpenKillPercent, 100) / 5
}
