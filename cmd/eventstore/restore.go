package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/spf13/cobra"
)

const restoreLong = `Turn a backup written by 'eventstore backup' (or Store.Backup) into a store in
--dir, which must not exist yet or be empty. The backup is not changed.

restore reads the manifest (BACKUP) first and refuses a directory without
one: an unfinished backup. A checkpoint backup is copied and restored on its
own engine; a dump backup is imported, on its engine or on --backend. The new
store is built in a hidden staging directory beside --dir and moved into place
only once it passed a full verify, ends at the head the manifest names, and,
for a dump, has its content hash. A damaged backup exits with code 3 and
leaves --dir as it was. The snapshots are restored with the store.

To change engines, restore on the original engine, then 'eventstore migrate'.`

const restoreExample = `  eventstore restore --from backups/events-2025-11-29 -d data/events-restored
  eventstore verify -d data/events-restored`

// restoreResult is restore's output.
type restoreResult struct {
	From      string `json:"from"`
	Dir       string `json:"dir"`
	Method    string `json:"method"`
	Backend   string `json:"backend"`
	Head      uint64 `json:"head"`
	Snapshots int    `json:"snapshots"`
	// Generation is the restored store's generation: the backed-up
	// store's plus one.
	Generation uint64  `json:"generation"`
	Seconds    float64 `json:"seconds"`
}

func newRestoreCmd(a *app) *cobra.Command {
	var from string
	c := &cobra.Command{
		Use:     "restore --from BACKUP",
		Short:   "Check a backup and restore it into a new store",
		Long:    restoreLong,
		Example: restoreExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if from == "" {
				return usageErrorf("--from is required: the backup's directory")
			}
			return runRestore(c.Context(), a, from)
		},
	}
	c.Flags().StringVar(&from, "from", "", "the backup's directory")
	return c
}

func runRestore(ctx context.Context, a *app, from string) error {
	start := time.Now()
	if err := a.requireDir(); err != nil {
		return err
	}
	if a.backend != "" {
		if err := checkEngine(a.backend, "restore", "import the backup's dump file with 'eventstore import --backend postgres'"); err != nil {
			return err
		}
	}
	m, err := dump.ReadManifest(from)
	if err != nil {
		return withCode(exitWrongDir, err)
	}
	res := restoreResult{From: from, Dir: a.dir, Method: m.Method, Head: uint64(m.Head)}
	switch m.Method {
	case dump.MethodCheckpoint:
		if a.backend != "" && a.backend != m.Backend {
			return usageErrorf("--backend %s: %s is a %s checkpoint, which restores only on %s; restore it, then 'eventstore migrate --to %s'",
				a.backend, from, m.Backend, m.Backend, a.backend)
		}
		res.Backend = m.Backend
	default:
		if res.Backend, err = newStoreBackend(a.backend, m.Backend); err != nil {
			return err
		}
	}
	st, err := newStaging(a.dir, "restore target")
	if err != nil {
		return err
	}
	if err := restoreInto(ctx, a, from, st.dir, res.Backend, m); err != nil {
		st.abort()
		return fmt.Errorf("restore %s (%s): %w; %s is as it was", from, describeMethod(m.Method), err, a.dir)
	}
	snaps, err := dump.CopySnapshots(layout.Snapshots(from), layout.Snapshots(st.dir), m.Head)
	if err == nil {
		res.Snapshots = len(snaps)
		// The restored log may go on with other events than the original
		// did after the backup's head: a new generation (see
		// docs/recovery.md, "Lost events and the generation").
		res.Generation = max(m.Generation, 1) + 1
		err = layout.SetGeneration(st.dir, res.Generation)
	}
	if err == nil {
		err = st.commit()
	}
	if err != nil {
		st.abort()
		return err
	}
	res.Seconds = time.Since(start).Seconds()
	if a.json {
		return a.printJSON(res)
	}
	a.printf("restored %s (%s) into %s (%s): %d records up to offset %d, verified; %d snapshot(s); generation %d\n",
		from, describeMethod(m.Method), a.dir, res.Backend, m.Head, m.Head, res.Snapshots, res.Generation)
	return nil
}

// restoreInto builds the store of the backup in from in dir and checks it.
func restoreInto(ctx context.Context, a *app, from, dir, name string, m dump.Manifest) (err error) {
	if m.Method == dump.MethodDump {
		f, err := os.Open(filepath.Join(from, dump.DumpFileName))
		if err != nil {
			return fmt.Errorf("%w: the backup's dump: %w", eventstore.ErrCorrupt, err)
		}
		defer f.Close()
		dr, err := dump.NewReader(f)
		if err != nil {
			return err
		}
		_, err = importInto(ctx, a, dir, name, dr, &m)
		return err
	}
	for _, name := range []string{layout.StoreFile, layout.EngineDir} {
		if err := copyTree(filepath.Join(from, name), filepath.Join(dir, name)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w: the checkpoint backup lacks %s: %w", eventstore.ErrCorrupt, name, err)
			}
			return fmt.Errorf("copy the backup: %w", err)
		}
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return err
	}
	s, err := eventstore.Open(dir, eventstore.WithBackend(name))
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	return checkStore(ctx, a, s, eventstore.Offset(m.Head), nil)
}

// copyTree copies the file or directory src to dst, durably.
func copyTree(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return dump.CopyFile(src, dst)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := copyTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return fsutil.SyncDir(dst)
}
