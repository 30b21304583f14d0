package main

import (
	"context"
	"fmt"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/spf13/cobra"
)

const backupLong = `Write a consistent copy of the store into --dest, a directory that must not
exist yet or be empty.

With rocksdb, pebble and sqlite, the copy is the engine's checkpoint (hard
links where it can, so it is fast and small on the same file system): --dest
is a store of the same engine that opens as it is. With badger and postgres,
the copy is a dump of every record in the export format (see 'eventstore
export'); on postgres the command runs beside the writers, without --dir. Either way the
snapshots are copied, and the manifest --dest/BACKUP is written last: a
directory without it is an unfinished backup. 'eventstore restore' checks a
backup and turns it into a store.

The command opens the store, so the application must not have it open; an
application backs up online, while it appends, with Store.Backup(ctx, dest),
which this command calls.`

const backupExample = `  eventstore backup -d data/events --dest backups/events-$(date +%F)
  eventstore restore --from backups/events-2025-11-29 -d data/events-restored`

// backupResult is backup's output.
type backupResult struct {
	Dir         string  `json:"dir"`
	Dest        string  `json:"dest"`
	Method      string  `json:"method"`
	Backend     string  `json:"backend"`
	Head        uint64  `json:"head"`
	Snapshots   int     `json:"snapshots"`
	ContentHash string  `json:"content_hash,omitempty"`
	Seconds     float64 `json:"seconds"`
}

func newBackupCmd(a *app) *cobra.Command {
	var dest string
	c := &cobra.Command{
		Use:     "backup --dest DIR",
		Short:   "Write a consistent copy of a store (engine checkpoint, else a dump)",
		Long:    backupLong,
		Example: backupExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if dest == "" {
				return usageErrorf("--dest is required: a new directory for the backup")
			}
			return runBackup(c.Context(), a, dest)
		},
	}
	c.Flags().StringVar(&dest, "dest", "", "the backup's directory; it must not exist or be empty")
	return c
}

func runBackup(ctx context.Context, a *app, dest string) (err error) {
	if err := checkEmptyDest(dest, "--dest"); err != nil {
		return err
	}
	s, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	b := a.newBar(int64(s.Head()), "backup", "rec")
	rep, err := s.BackupProgress(ctx, dest, func(o eventstore.Offset) { b.set(int64(o)) })
	if err != nil {
		b.stop()
		return err
	}
	b.done()
	res := backupResult{Dir: a.where(), Dest: dest, Method: rep.Method, Backend: rep.Backend, Head: uint64(rep.Head),
		Snapshots: rep.Snapshots, ContentHash: rep.ContentHash, Seconds: rep.Duration.Seconds()}
	if a.json {
		return a.printJSON(res)
	}
	a.printf("backed up %s (%s) into %s: %s, %d records up to offset %d, %d snapshot(s), in %s\n",
		res.Dir, res.Backend, res.Dest, res.Method, res.Head, res.Head, res.Snapshots, rep.Duration.Round(time.Millisecond))
	if res.ContentHash != "" {
		a.printf("content hash %s\n", res.ContentHash)
	}
	a.printf("restore it with: eventstore restore --from %s --dir NEW_DIR\n", dest)
	return nil
}

// describeMethod is a short explanation of a backup method for messages.
func describeMethod(method string) string {
	if method == eventstore.BackupCheckpoint {
		return "engine checkpoint"
	}
	return fmt.Sprintf("%s of the records", method)
}
