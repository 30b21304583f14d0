package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/spf13/cobra"
)

const exportLong = `Write every record of a store, with its offset, stream version, id, metadata
and commit time, into a dump: the portable, checksummed, versioned logical
backup format, which 'eventstore import' loads into a new store of any engine.

The format (documented in full in docs/cli.md and in package
internal/dump): the magic "ESDUMP\0" and a version byte, a JSON header (format
version, source engine, head, time), one binary frame per record, and a
trailer with the record count, the last offset and the SHA-256 content hash of
the records. Every frame carries a CRC-32C. Snapshots are not part of a dump:
the application's Open rebuilds its state from the log.

--out - writes to stdout, for pipes. A file is written under a temporary name
and renamed when complete, so a dump file with its final name is whole.`

const exportExample = `  eventstore export -d data/events -o events.esdump
  eventstore export -d data/events -o - | gzip > events.esdump.gz
  eventstore export -d data/events -o - | ssh backup-host eventstore import -d /srv/events -i -`

// exportResult is export's output.
type exportResult struct {
	Out         string     `json:"out"`
	Backend     string     `json:"backend"`
	Head        uint64     `json:"head"`
	DataBytes   uint64     `json:"data_bytes"`
	ContentHash string     `json:"content_hash"`
	Throughput  throughput `json:"throughput"`
}

func newExportCmd(a *app) *cobra.Command {
	var out string
	var force bool
	c := &cobra.Command{
		Use:     "export --out FILE|-",
		Short:   "Write every record into a portable, checksummed dump",
		Long:    exportLong,
		Example: exportExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("--out is required: a file, or - for stdout")
			}
			return runExport(c.Context(), a, out, force)
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "", "the dump file, or - for stdout")
	c.Flags().BoolVar(&force, "force", false, "replace --out if it exists")
	return c
}

func runExport(ctx context.Context, a *app, out string, force bool) (err error) {
	if out == "-" && a.json {
		return usageErrorf("--json with --out -: the dump goes to stdout; write it to a file to get a JSON report")
	}
	if out == "-" && isTerminal(a.stdout) {
		return usageErrorf("--out -: stdout is a terminal, and a dump is binary: redirect stdout, pipe it, or give a file")
	}
	if out != "-" && !force {
		if _, err := os.Stat(out); err == nil {
			return withCode(exitWrongDir, fmt.Errorf("%s exists: choose another --out, or add --force to replace it", out))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	s, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	start := time.Now()
	w, commit, abort, err := createOutput(out, a.stdout)
	if err != nil {
		return err
	}
	head := s.Head()
	n, tr, err := writeDump(ctx, a, s, head, w)
	if err == nil {
		err = commit()
	}
	if err != nil {
		abort()
		return fmt.Errorf("export to %s: %w", out, err)
	}
	res := exportResult{Out: out, Backend: s.Backend(), Head: uint64(head), DataBytes: tr.DataBytes, ContentHash: tr.Hash.String(),
		Throughput: newThroughput(tr.Records, n, time.Since(start))}
	if out == "-" {
		a.warnf("exported %s (content hash %s)", res.Throughput, res.ContentHash)
		return nil
	}
	if a.json {
		return a.printJSON(res)
	}
	a.printf("exported %d records up to offset %d to %s\n", tr.Records, head, out)
	a.printf("content hash %s\n", res.ContentHash)
	a.printf("throughput   %s\n", res.Throughput)
	return nil
}

// writeDump writes the records from 1 to head into w and returns the bytes
// written and the trailer.
func writeDump(ctx context.Context, a *app, s *eventstore.Store, head eventstore.Offset, w io.Writer) (int64, dump.Trailer, error) {
	dw, err := dump.NewWriter(w, dump.Header{Backend: s.Backend(), Head: head})
	if err != nil {
		return 0, dump.Trailer{}, err
	}
	b := a.newBar(int64(head), "export", "rec")
	for rec, err := range logUpTo(ctx, s, head) {
		if err != nil {
			b.stop()
			return 0, dump.Trailer{}, err
		}
		if err := dw.Write(&rec); err != nil {
			b.stop()
			return 0, dump.Trailer{}, err
		}
		if rec.Offset%4096 == 0 {
			b.set(int64(rec.Offset))
		}
	}
	tr, err := dw.Close()
	if err != nil {
		b.stop()
		return 0, tr, err
	}
	b.done()
	return dw.BytesWritten(), tr, nil
}

// createOutput opens the dump's destination: stdout for "-", else a
// temporary file beside path that commit syncs and renames to path.
func createOutput(path string, stdout io.Writer) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("create the dump beside %s: %w", path, err)
	}
	commit = func() error {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", f.Name(), err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("close %s: %w", f.Name(), err)
		}
		if err := os.Rename(f.Name(), path); err != nil {
			return fmt.Errorf("rename %s to %s: %w", f.Name(), path, err)
		}
		return fsutil.SyncDir(dir)
	}
	abort = func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	return f, commit, abort, nil
}
