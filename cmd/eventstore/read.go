package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"os"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/layout"
	"github.com/spf13/cobra"
)

type readOptions struct {
	stream string
	from   uint64
	last   uint64
	limit  int
	follow bool
	base64 bool
	poll   time.Duration
}

const readLong = `Print the log, or one stream, in order.

Without --stream, read prints the log from offset --from; with --stream, the
stream from version --from. --last N starts N records before the end
instead, and --limit stops after that many records. Each record is one line:

  OFFSET  STREAM vVERSION  TYPE  id=ID  TIME  DATA

--json prints one JSON object per line instead, with the metadata: data that
is valid JSON appears as such under "data", other data in base64 under
"data_base64" (--base64: always). A damaged record stops the read with exit
code 3 and names its offset; nothing of it is printed.

--follow keeps printing new records as they are committed, like tail -f, until
--limit records were printed or the command is interrupted (exit code 0). A
store has one owner process at a time, so read --follow does not keep it open:
it reads what is new, releases the store, and checks its files every --poll for
changes, so that other processes, such as eventstore append, can write between
reads. While another process keeps the store open, such as an application,
read --follow waits for it to close it; within the application, follow the log
with Store.Subscribe (see examples/projection).

On PostgreSQL (--backend postgres), which several processes share, read
--follow keeps the store open beside the applications and prints every
process's appends as they commit, woken by the server's notifications and
looking every --poll when none came. It needs no --dir.`

const readExample = `  eventstore read -d data/events
  eventstore read -d data/events --stream account-1 --json
  eventstore read -d data/events --from 1000 --limit 10
  eventstore read -d data/events --follow --last 5
  eventstore read --backend postgres --dsn postgres://app@db/orders --schema orders --follow --json`

func newReadCmd(a *app) *cobra.Command {
	var o readOptions
	c := &cobra.Command{
		Use:     "read [--stream STREAM] [--from N | --last N] [--limit N] [--follow]",
		Short:   "Print the log or a stream; --follow prints new events as they come",
		Long:    readLong,
		Example: readExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runRead(c.Context(), a, o, c.Flags().Changed("from"))
		},
	}
	f := c.Flags()
	f.StringVarP(&o.stream, "stream", "s", "", "read this stream instead of the whole log")
	f.Uint64Var(&o.from, "from", 1, "the first offset (log) or version (--stream) to print")
	f.Uint64Var(&o.last, "last", 0, "start this many records before the end")
	f.IntVarP(&o.limit, "limit", "n", 0, "stop after this many records (0: no limit)")
	f.BoolVarP(&o.follow, "follow", "f", false, "keep printing new records until interrupted")
	f.BoolVar(&o.base64, "base64", false, "with --json, always print the data in base64")
	f.DurationVar(&o.poll, "poll", 200*time.Millisecond, "with --follow, how often to look for new records")
	return c
}

func runRead(ctx context.Context, a *app, o readOptions, fromSet bool) error {
	if o.last > 0 && fromSet {
		return usageErrorf("give --from or --last, not both")
	}
	if o.limit < 0 {
		return usageErrorf("--limit %d: give a count, or 0 for no limit", o.limit)
	}
	if o.follow && o.poll <= 0 {
		return usageErrorf("--poll %v: give a positive interval", o.poll)
	}
	rw := newRecordWriter(a.stdout, a.json, o.base64)
	if o.follow && a.onPostgres() {
		return followShared(ctx, a, o, rw)
	}
	if o.follow {
		return follow(ctx, a, o, rw)
	}
	s, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	from, err := o.start(ctx, s)
	if err != nil {
		return err
	}
	_, _, err = o.print(ctx, s, from, o.limit, rw)
	return err
}

// start returns the first offset or version to print.
func (o readOptions) start(ctx context.Context, s *eventstore.Store) (uint64, error) {
	if o.last == 0 {
		return max(o.from, 1), nil
	}
	end := uint64(s.Head())
	if o.stream != "" {
		v, err := s.StreamVersion(ctx, o.stream)
		if err != nil {
			return 0, err
		}
		end = v
	}
	if o.last >= end {
		return 1, nil
	}
	return end - o.last + 1, nil
}

// print prints the records from offset or version from, at most limit of
// them (0: all), and returns how many it printed and the offset or version
// after the last one.
func (o readOptions) print(ctx context.Context, s *eventstore.Store, from uint64, limit int, rw *recordWriter) (int, uint64, error) {
	var seq iter.Seq2[eventstore.Record, error]
	if o.stream != "" {
		seq = s.Stream(ctx, o.stream, from)
	} else {
		seq = s.Log(ctx, eventstore.Offset(from))
	}
	n, next := 0, from
	for rec, err := range seq {
		if err != nil {
			return o.printUpToDamage(ctx, s, n, next, limit, rw, err)
		}
		if err := rw.write(rec); err != nil {
			return n, next, err
		}
		n++
		if o.stream != "" {
			next = rec.Version + 1
		} else {
			next = uint64(rec.Offset) + 1
		}
		if limit > 0 && n >= limit {
			break
		}
	}
	return n, next, nil
}

// printUpToDamage prints, after a read failed with err, the records between
// next and the damaged offset that err names: reads fail a whole chunk, and
// the records before the damage are worth seeing. It returns err.
func (o readOptions) printUpToDamage(ctx context.Context, s *eventstore.Store, n int, next uint64, limit int, rw *recordWriter, err error) (int, uint64, error) {
	var ce *eventstore.CorruptionError
	if o.stream != "" || !errors.As(err, &ce) || uint64(ce.Offset) <= next {
		return n, next, err
	}
	count := int(uint64(ce.Offset) - next)
	if limit > 0 {
		count = min(count, limit-n)
	}
	recs, rerr := s.ReadLog(ctx, eventstore.Offset(next), count)
	if rerr != nil {
		return n, next, err
	}
	for _, rec := range recs {
		if werr := rw.write(rec); werr != nil {
			return n, next, werr
		}
		n, next = n+1, uint64(rec.Offset)+1
	}
	return n, next, err
}

// followResync is how often read --follow reopens the store even when its
// files look unchanged.
const followResync = 5 * time.Second

// follow prints what is new, again and again: it opens the store when its
// files changed and no other process has it, prints the records after the
// last one printed, and closes it.
func follow(ctx context.Context, a *app, o readOptions, rw *recordWriter) error {
	if err := a.requireDir(); err != nil {
		return err
	}
	if ok, err := isStore(a.dir); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: %s holds no store (no %s file): check --dir", errNoStore, a.dir, layout.StoreFile)
		}
		return err
	}
	var (
		next      uint64 // offset or version to print next; 0 before the first read
		printed   int
		seen      uint64 // fingerprint of the engine files after the last read
		lastRead  time.Time
		waiting   bool
		firstPass = true
	)
	for {
		fp := fingerprint(layout.Engine(a.dir))
		if firstPass || fp != seen || time.Since(lastRead) >= followResync {
			s, err := a.openDir(ctx, a.dir, a.backend)
			switch {
			case errors.Is(err, eventstore.ErrLocked):
				if !waiting {
					a.warnf("%s is in use by another process: waiting for it to close the store", a.dir)
					waiting = true
				}
			case err != nil:
				if ctx.Err() != nil {
					return nil
				}
				return err
			default:
				waiting = false
				if firstPass {
					if next, err = o.start(ctx, s); err != nil {
						_ = s.Close()
						return err
					}
				}
				left := 0
				if o.limit > 0 {
					left = o.limit - printed
				}
				n, nx, err := o.print(ctx, s, next, left, rw)
				printed, next = printed+n, nx
				if cerr := s.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				if o.limit > 0 && printed >= o.limit {
					return nil
				}
				seen, lastRead, firstPass = fingerprint(layout.Engine(a.dir)), time.Now(), false
			}
		}
		if err := sleep(ctx, o.poll); err != nil {
			return nil // interrupted: the normal end of --follow
		}
	}
}

// fingerprint sums the names, sizes and modification times of the files in
// dir: any commit changes it.
func fingerprint(dir string) uint64 {
	h := fnv.New64a()
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprint(h, err.Error())
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			fmt.Fprintf(h, "%s:gone;", e.Name())
			continue
		}
		fmt.Fprintf(h, "%s:%d:%d;", e.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return h.Sum64()
}
