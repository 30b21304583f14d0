package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/spf13/cobra"
)

const statLong = `Describe a store: its engine, its head (the offset of the last event), the
number of streams, its size on disk, its snapshots (each one checked), and
what opening it found.

Counting the streams reads the whole log; --fast skips it. The recovery report
is this command's own open of the store: the CLI has no state machine, so
it restores no snapshot; the application's Open reports its own recovery
through Store.LastRecovery.

On PostgreSQL (--backend postgres), stat runs beside the applications that
write, without --dir (see 'eventstore --help'); it names the database and
the schema, and the size of the store's tables there. The head is the last
offset when the command opened the store.`

const statExample = `  eventstore stat -d data/events
  eventstore stat -d data/events --fast --json | jq .head
  eventstore stat --backend postgres --schema orders   # the server from PGHOST, PGUSER, ...`

// statResult is stat's output.
type statResult struct {
	Dir     string    `json:"dir"`
	Backend string    `json:"backend"`
	Created time.Time `json:"created,omitzero"`
	Head    uint64    `json:"head"`
	// Generation is the store's generation (Store.Generation).
	Generation uint64         `json:"generation"`
	Streams    *uint64        `json:"streams,omitempty"`
	Size       sizeInfo       `json:"size"`
	Snapshots  []snapshotInfo `json:"snapshots"`
	Recovery   recoveryInfo   `json:"recovery"`
	// TemporaryDir: Dir is the command's own temporary directory (a
	// store on PostgreSQL without --dir).
	TemporaryDir bool `json:"temporary_dir,omitempty"`
	// Postgres describes the schema of a store on PostgreSQL.
	Postgres *pgStat `json:"postgres,omitempty"`
}

type sizeInfo struct {
	Total     int64 `json:"total"`
	Engine    int64 `json:"engine"`
	Snapshots int64 `json:"snapshots"`
}

type recoveryInfo struct {
	Head           uint64            `json:"head"`
	LostEvents     uint64            `json:"lost_events,omitempty"`
	SnapshotOffset uint64            `json:"snapshot_offset"`
	EventsReplayed uint64            `json:"events_replayed"`
	Skipped        []skippedSnapshot `json:"skipped,omitempty"`
	Seconds        float64           `json:"seconds"`
}

type skippedSnapshot struct {
	File   string `json:"file"`
	Offset uint64 `json:"offset"`
	Reason string `json:"reason"`
}

func newStatCmd(a *app) *cobra.Command {
	var fast bool
	c := &cobra.Command{
		Use:     "stat [--fast]",
		Short:   "Show the head, streams, size on disk, snapshots and recovery of a store",
		Long:    statLong,
		Example: statExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runStat(c.Context(), a, fast)
		},
	}
	c.Flags().BoolVar(&fast, "fast", false, "skip counting the streams, which reads the whole log")
	return c
}

func runStat(ctx context.Context, a *app, fast bool) (err error) {
	s, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	res := statResult{Dir: a.dir, Backend: s.Backend(), Head: uint64(s.Head()), Generation: s.Generation(), Created: storeCreated(a.dir), TemporaryDir: a.temporary}
	if a.temporary {
		res.Created = time.Time{}
	}
	if res.Postgres, err = a.statPostgres(ctx, s); err != nil {
		return err
	}
	if !fast {
		n, err := countStreams(ctx, a, s)
		if err != nil {
			return err
		}
		res.Streams = &n
	}
	res.Size = diskUsage(a.dir)
	if res.Snapshots, err = listSnapshots(a.dir); err != nil {
		return err
	}
	rec := s.LastRecovery()
	res.Recovery = recoveryInfo{Head: uint64(rec.Head), LostEvents: rec.LostEvents, SnapshotOffset: uint64(rec.SnapshotOffset), EventsReplayed: rec.EventsReplayed, Seconds: rec.Duration.Seconds()}
	for _, sk := range rec.Skipped {
		res.Recovery.Skipped = append(res.Recovery.Skipped, skippedSnapshot{File: sk.File, Offset: uint64(sk.Offset), Reason: sk.Reason})
	}
	if a.json {
		return a.printJSON(res)
	}
	a.printStat(res)
	return nil
}

func (a *app) printStat(r statResult) {
	if r.TemporaryDir {
		a.printf("directory   none given: a temporary one, removed at exit\n")
	} else {
		a.printf("directory   %s\n", r.Dir)
	}
	a.printf("backend     %s\n", r.Backend)
	if p := r.Postgres; p != nil {
		a.printf("location    database %q schema %q, %s in PostgreSQL\n", p.Database, p.Schema, formatBytes(p.Bytes))
	}
	if !r.Created.IsZero() {
		a.printf("created     %s\n", r.Created.Format(time.RFC3339))
	}
	a.printf("head        %d\n", r.Head)
	a.printf("generation  %d\n", r.Generation)
	if r.Streams != nil {
		a.printf("streams     %d\n", *r.Streams)
	}
	if r.Postgres != nil {
		a.printf("local size  %s (snapshots %s)\n", formatBytes(r.Size.Total), formatBytes(r.Size.Snapshots))
	} else {
		a.printf("size        %s (engine %s, snapshots %s)\n", formatBytes(r.Size.Total), formatBytes(r.Size.Engine), formatBytes(r.Size.Snapshots))
	}
	a.printf("snapshots   %d\n", len(r.Snapshots))
	for _, sn := range r.Snapshots {
		a.printf("  %s\n", describeSnapshot(sn))
	}
	a.printf("recovery    opened at head %d in %s; no snapshot restored (the CLI has no state machine)\n",
		r.Recovery.Head, time.Duration(r.Recovery.Seconds*float64(time.Second)).Round(time.Millisecond))
	for _, sk := range r.Recovery.Skipped {
		a.printf("  skipped %s: %s\n", sk.File, sk.Reason)
	}
}

// countStreams reads the whole log and counts the distinct streams.
func countStreams(ctx context.Context, a *app, s *eventstore.Store) (uint64, error) {
	head := s.Head()
	b := a.newBar(int64(head), "counting streams", "rec")
	seen := map[string]struct{}{}
	for rec, err := range logUpTo(ctx, s, head) {
		if err != nil {
			b.stop()
			return 0, err
		}
		seen[rec.Stream] = struct{}{}
		if rec.Offset%4096 == 0 {
			b.set(int64(rec.Offset))
		}
	}
	b.done()
	return uint64(len(seen)), nil
}

// storeCreated reads the creation time the STORE file records, if any.
func storeCreated(dir string) time.Time {
	var sf struct {
		Created time.Time `json:"created"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, layout.StoreFile)); err == nil {
		_ = json.Unmarshal(b, &sf)
	}
	return sf.Created
}

// diskUsage sums the sizes of the files under dir.
func diskUsage(dir string) sizeInfo {
	var si sizeInfo
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		n := info.Size()
		si.Total += n
		rel, _ := filepath.Rel(dir, path)
		switch {
		case strings.HasPrefix(rel, layout.EngineDir+string(filepath.Separator)):
			si.Engine += n
		case strings.HasPrefix(rel, layout.SnapshotDir+string(filepath.Separator)):
			si.Snapshots += n
		}
		return nil
	})
	return si
}
