package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/durablelog/eventstore/internal/fsutil"
)

// staging is a new store built in a hidden directory beside its final place,
// and moved into place only once it is complete and checked: import,
// migrate and restore never leave a partial store where one is expected. A
// crash leaves the hidden directory (.NAME.staging-*) behind, which may be
// removed.
type staging struct {
	dir   string // where the store is built
	final string // where it goes
}

// newStaging checks that final does not exist or is an empty directory, and
// creates the staging directory beside it.
func newStaging(final, what string) (*staging, error) {
	final = filepath.Clean(final)
	if err := checkEmptyDest(final, what); err != nil {
		return nil, err
	}
	parent := filepath.Dir(final)
	if err := fsutil.MkdirAllSync(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", parent, err)
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(final)+".staging-")
	if err != nil {
		return nil, fmt.Errorf("create a staging directory beside %s: %w", final, err)
	}
	return &staging{dir: dir, final: final}, nil
}

// commit makes the staged store's entries durable, moves it into place and
// makes the move durable. The store in the staging directory must be
// closed.
func (st *staging) commit() error {
	if err := checkEmptyDest(st.final, "destination"); err != nil {
		return err
	}
	// Everything created in the staging directory (STORE, engine/,
	// snapshots/) must be durable before the move publishes it.
	if err := fsutil.SyncDir(st.dir); err != nil {
		return err
	}
	if _, err := os.Stat(st.final); err == nil {
		// An empty directory: replace it.
		if err := os.Remove(st.final); err != nil {
			return fmt.Errorf("replace the empty directory %s: %w; give a path that does not exist yet (the complete store is in %s)", st.final, err, st.dir)
		}
	}
	if err := os.Rename(st.dir, st.final); err != nil {
		return fmt.Errorf("move %s into place: %w (the complete store is in %s)", st.final, err, st.dir)
	}
	return fsutil.SyncDir(filepath.Dir(st.final))
}

// abort removes the staging directory.
func (st *staging) abort() { _ = os.RemoveAll(st.dir) }
