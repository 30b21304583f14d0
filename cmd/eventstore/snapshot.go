package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/spf13/cobra"
)

const snapshotLong = `List, check and prune the snapshots of a store's state machine.

A snapshot holds the application's state at an offset, written by its
StateMachine's Snapshot method; Open restores the newest valid one and
replays only the events after it. Snapshots live in DIR/snapshots as
snap-<offset>.snap files. Recovery renames a damaged one to *.broken.`

func newSnapshotCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "snapshot list|create|prune",
		Short: "List, create or prune state-machine snapshots",
		Long:  snapshotLong,
		Args:  cobra.ArbitraryArgs,
		RunE:  needSubcommand,
	}
	c.AddCommand(newSnapshotListCmd(a), newSnapshotCreateCmd(a), newSnapshotPruneCmd(a))
	return c
}

func newSnapshotListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the snapshots, newest first, each one checked",
		Long: `List the snapshots, newest first: offset, size, creation time, fingerprint
(the state machine's schema mark) and whether the file passes its checks
(header, size and content checksum). It reads the files only, and works while
the application has the store open.`,
		Example: `  eventstore snapshot list -d data/events
  eventstore snapshot list -d data/events --json | jq '.[] | select(.valid == false)'`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.requireDir(); err != nil {
				return err
			}
			if ok, err := isStore(a.dir); err != nil || !ok {
				if err == nil {
					err = fmt.Errorf("%w: %s holds no store (no %s file): check --dir", errNoStore, a.dir, layout.StoreFile)
				}
				return err
			}
			list, err := listSnapshots(a.dir)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(list)
			}
			if len(list) == 0 {
				a.printf("no snapshots in %s\n", layout.Snapshots(a.dir))
			}
			for _, s := range list {
				a.printf("%s\n", describeSnapshot(s))
			}
			return nil
		},
	}
}

func newSnapshotCreateCmd(_ *app) *cobra.Command {
	return &cobra.Command{
		Use:   "create",
		Short: "Explains why snapshots are taken by the application",
		Long: `A snapshot holds the application's state, which only the application's
StateMachine can write: the CLI has none. Take snapshots in the application,
with Store.Snapshot(ctx) or a policy (WithSnapshotPolicy: EveryN, Adaptive,
OnClose). This command exits with code 2 and says so.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			return usageErrorf("snapshot create: a snapshot holds the application's state, which only its StateMachine can write, and the CLI has none: " +
				"call Store.Snapshot(ctx) in the application, or open the store WithSnapshotPolicy(eventstore.EveryN(n)) or OnClose(); " +
				"'eventstore snapshot list' shows the snapshots it wrote")
		},
	}
}

// pruneResult is snapshot prune's output.
type pruneResult struct {
	Kept    []string `json:"kept"`
	Removed []string `json:"removed"`
	DryRun  bool     `json:"dry_run,omitempty"`
}

func newSnapshotPruneCmd(a *app) *cobra.Command {
	var keep int
	var broken, dryRun bool
	c := &cobra.Command{
		Use:   "prune [--keep N] [--broken] [--dry-run]",
		Short: "Remove all but the newest valid snapshots",
		Long: `Keep the newest --keep valid snapshots and remove the others, older ones and
damaged ones alike. --broken also removes the *.broken files that recovery
set aside. The command holds the store while it runs, so the application must
not have it open.`,
		Example: `  eventstore snapshot prune -d data/events --keep 1 --dry-run
  eventstore snapshot prune -d data/events --keep 2 --broken`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if keep < 1 {
				return usageErrorf("--keep %d: keep at least one snapshot", keep)
			}
			return runPrune(c.Context(), a, keep, broken, dryRun)
		},
	}
	c.Flags().IntVar(&keep, "keep", eventstore.DefaultSnapshotRetention, "how many of the newest valid snapshots to keep")
	c.Flags().BoolVar(&broken, "broken", false, "also remove the *.broken files recovery set aside")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "only say what would be removed")
	return c
}

func runPrune(ctx context.Context, a *app, keep int, broken, dryRun bool) (err error) {
	// Holding the store keeps the application from writing snapshots
	// meanwhile.
	s, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	list, err := listSnapshots(a.dir)
	if err != nil {
		return err
	}
	res := pruneResult{Kept: []string{}, Removed: []string{}, DryRun: dryRun}
	var remove []string
	for _, sn := range list {
		if sn.Valid && len(res.Kept) < keep {
			res.Kept = append(res.Kept, sn.File)
			continue
		}
		remove = append(remove, sn.File)
	}
	if broken {
		dir := layout.Snapshots(a.dir)
		entries, err := os.ReadDir(dir)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".broken") {
				remove = append(remove, filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, path := range remove {
		if !dryRun {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove %s: %w", path, err)
			}
		}
		res.Removed = append(res.Removed, path)
	}
	if len(remove) > 0 && !dryRun {
		if err := fsutil.SyncDir(layout.Snapshots(a.dir)); err != nil {
			return err
		}
	}
	if a.json {
		return a.printJSON(res)
	}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	for _, f := range res.Removed {
		a.printf("%s %s\n", verb, f)
	}
	a.printf("kept %d snapshot(s), %s %d file(s)\n", len(res.Kept), verb, len(res.Removed))
	return nil
}
