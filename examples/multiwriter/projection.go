package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/durablelog/eventstore"
)

// Account is the projection's view of an account.
type Account struct {
	Balance  int64 `json:"balance"`
	Payments int   `json:"payments"`
}

// Checkpoint is the last event the projection applied: the store's
// generation and the event's offset, as docs/recovery.md recommends.
type Checkpoint struct {
	Generation uint64 `json:"generation"`
	Offset     uint64 `json:"offset"`
}

// State is the projection's file: the read model and its checkpoint,
// written together, atomically.
type State struct {
	Checkpoint Checkpoint         `json:"checkpoint"`
	Accounts   map[string]Account `json:"accounts"`
}

// saveEvery is how many events the projection applies between two saves.
const saveEvery = 10

// stateFile is where the projection keeps its State.
func stateFile(c config) string { return filepath.Join(c.dir, "projection.json") }

// project follows the log from the saved checkpoint, applying every event
// to the read model, until the log is applied up to offset until (0: until
// ctx is done), and saves the model with its checkpoint.
func project(ctx context.Context, c config, until uint64, out io.Writer) (st State, err error) {
	s, err := c.open(filepath.Join(c.dir, "projection"))
	if err != nil {
		return st, err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	if st, err = load(stateFile(c)); err != nil {
		return st, err
	}
	cp := st.Checkpoint
	switch {
	case cp.Offset == 0:
		fmt.Fprintf(out, "no checkpoint: projecting from offset 1\n")
		st = State{}
	case cp.Generation != s.Generation() || cp.Offset > uint64(s.Head()):
		// The log lost events the model may hold: rebuild it.
		fmt.Fprintf(out, "checkpoint (generation %d, offset %d) does not fit the store (generation %d, head %d): rebuilding from offset 1\n",
			cp.Generation, cp.Offset, s.Generation(), s.Head())
		st = State{}
	default:
		fmt.Fprintf(out, "resuming after the checkpoint at offset %d (generation %d)\n", cp.Offset, cp.Generation)
	}
	if st.Accounts == nil {
		st.Accounts = map[string]Account{}
	}
	st.Checkpoint.Generation = s.Generation()
	applied := 0
	if until == 0 || st.Checkpoint.Offset < until {
		for rec, err := range s.Subscribe(ctx, eventstore.Offset(st.Checkpoint.Offset+1)) {
			if err != nil {
				return st, err
			}
			if err := st.apply(rec); err != nil {
				return st, err
			}
			if applied++; applied%saveEvery == 0 {
				if err := save(stateFile(c), st); err != nil {
					return st, err
				}
			}
			if until > 0 && st.Checkpoint.Offset >= until {
				break
			}
		}
	}
	if until > 0 && st.Checkpoint.Offset < until {
		return st, fmt.Errorf("stopped at offset %d before offset %d: %w", st.Checkpoint.Offset, until, context.Cause(ctx))
	}
	if err := save(stateFile(c), st); err != nil {
		return st, err
	}
	fmt.Fprintf(out, "applied %d events; checkpoint at offset %d (generation %d)\n", applied, st.Checkpoint.Offset, st.Checkpoint.Generation)
	return st, nil
}

// apply folds one event into the model. Each event states the account's
// balance after it; a writer that decided on a stale balance would show
// here, which exact expected versions prevent.
func (st *State) apply(rec eventstore.Record) error {
	if rec.Type != eventType {
		return fmt.Errorf("offset %d: unknown event type %q", rec.Offset, rec.Type)
	}
	ev, err := decode(rec.Data)
	if err != nil {
		return fmt.Errorf("offset %d: %w", rec.Offset, err)
	}
	a := st.Accounts[rec.Stream]
	if ev.Balance != a.Balance+ev.Amount || rec.Version != uint64(a.Payments)+1 {
		return fmt.Errorf("offset %d: %s version %d says balance %d after %d, the projection has %d payments and balance %d",
			rec.Offset, rec.Stream, rec.Version, ev.Balance, ev.Amount, a.Payments, a.Balance)
	}
	a.Balance, a.Payments = ev.Balance, a.Payments+1
	st.Accounts[rec.Stream] = a
	st.Checkpoint.Offset = uint64(rec.Offset)
	return nil
}

// load reads the projection's file; a missing file is an empty State.
func load(path string) (State, error) {
	var st State
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// save writes the projection's file atomically: a temporary file, synced,
// renamed over the old one, and the directory synced.
func save(path string, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
