package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/dump"
	"github.com/spf13/cobra"
)

const verifyLong = `Check a whole store: every record's checksum and framing, offsets dense from 1
to the head, versions dense in every stream, the stream and id indexes against
the log, and every snapshot file.

On the first problem, verify exits with code 3 and names its location, such
as "log offset 3" or "stream \"a\" version 2" (--json: "where" and "offset").
docs/recovery.md says what to do next.

--hash also prints the content hash of the records: two stores with the same
hash hold the same records, whatever their engines (see migrate).`

const verifyExample = `  eventstore verify -d data/events
  eventstore verify -d data/events --hash --json`

// verifyResult is verify's output.
type verifyResult struct {
	OK           bool           `json:"ok"`
	Backend      string         `json:"backend,omitempty"`
	Head         uint64         `json:"head"`
	Records      uint64         `json:"records"`
	Streams      uint64         `json:"streams"`
	IndexEntries uint64         `json:"index_entries"`
	IDs          uint64         `json:"ids"`
	Bytes        uint64         `json:"bytes"`
	Seconds      float64        `json:"seconds"`
	ContentHash  string         `json:"content_hash,omitempty"`
	Snapshots    []snapshotInfo `json:"snapshots"`
	Error        string         `json:"error,omitempty"`
	Where        string         `json:"where,omitempty"`
	Offset       uint64         `json:"offset,omitempty"`
}

func newVerifyCmd(a *app) *cobra.Command {
	var hash bool
	c := &cobra.Command{
		Use:     "verify [--hash]",
		Short:   "Check every record, index entry and snapshot; exit code 3 and the location on damage",
		Long:    verifyLong,
		Example: verifyExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runVerify(c.Context(), a, hash)
		},
	}
	c.Flags().BoolVar(&hash, "hash", false, "also print the content hash of the records")
	return c
}

func runVerify(ctx context.Context, a *app, hash bool) (err error) {
	var res verifyResult
	defer func() {
		if err != nil {
			res.OK = false
			res.Error = message(err)
			var ce *eventstore.CorruptionError
			if errors.As(err, &ce) {
				res.Where, res.Offset = ce.Where(), uint64(ce.Offset)
			}
		}
		if perr := a.printVerify(res, err); perr != nil && err == nil {
			err = perr
		}
	}()
	s, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	res.Backend, res.Head = s.Backend(), uint64(s.Head())
	b := a.newBar(int64(s.Head()), "verify", "rec")
	rep, err := s.VerifyProgress(ctx, func(o eventstore.Offset) { b.set(int64(o)) })
	res.Head, res.Records, res.Streams, res.IndexEntries, res.IDs, res.Bytes, res.Seconds =
		uint64(rep.Head), rep.Records, rep.Streams, rep.IndexEntries, rep.IDs, rep.Bytes, rep.Duration.Seconds()
	if err != nil {
		b.stop()
		return fmt.Errorf("verify %s: %w", a.where(), err)
	}
	b.done()
	if hash {
		sum, err := contentHash(ctx, a, s, s.Head(), "hash")
		if err != nil {
			return err
		}
		res.ContentHash = sum.String()
	}
	if res.Snapshots, err = listSnapshots(a.dir); err != nil {
		return err
	}
	for _, sn := range res.Snapshots {
		if !sn.Valid {
			res.Where = sn.File
			return fmt.Errorf("%w: snapshot %s is damaged: %s; recovery skips it and sets it aside, 'eventstore snapshot prune' removes it",
				eventstore.ErrCorrupt, sn.File, sn.Problem)
		}
	}
	res.OK = true
	return nil
}

func (a *app) printVerify(r verifyResult, err error) error {
	if a.json {
		return a.printJSON(r)
	}
	if err != nil {
		if errors.Is(err, eventstore.ErrCorrupt) {
			where := r.Where
			if where == "" {
				where = "unknown location"
			}
			a.printf("verify: FAILED: corruption at %s (checked %d records before it)\n", where, r.Records)
		}
		return nil
	}
	a.printf("verify: ok: %d records up to offset %d, %d streams, %d index entries, %d ids, %s in %s\n",
		r.Records, r.Head, r.Streams, r.IndexEntries, r.IDs, formatBytes(int64(r.Bytes)), formatSeconds(r.Seconds))
	a.printf("snapshots: %d, all valid\n", len(r.Snapshots))
	if r.ContentHash != "" {
		a.printf("content hash: %s\n", r.ContentHash)
	}
	return nil
}

// contentHash reads the records from 1 to head and returns their content
// hash (see package internal/dump).
func contentHash(ctx context.Context, a *app, s *eventstore.Store, head eventstore.Offset, desc string) (dump.Sum, error) {
	h := dump.NewHasher()
	b := a.newBar(int64(head), desc, "rec")
	for rec, err := range logUpTo(ctx, s, head) {
		if err != nil {
			b.stop()
			return dump.Sum{}, err
		}
		h.Add(&rec)
		if rec.Offset%4096 == 0 {
			b.set(int64(rec.Offset))
		}
	}
	b.done()
	if h.Count() != uint64(head) {
		return dump.Sum{}, fmt.Errorf("read %d records, the head is %d", h.Count(), head)
	}
	return h.Sum(), nil
}
