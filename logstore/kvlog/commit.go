package kvlog

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// pending is one append waiting for the committer.
type pending struct {
	ctx   context.Context
	req   logstore.AppendRequest
	batch []logstore.AppendRequest // AppendBatch: committed alone, all or nothing
	// checkpoint, when not empty, makes this a request for a checkpoint
	// into that directory (Checkpoint), run alone between two commits.
	checkpoint string
	ress       []logstore.AppendResult
	size       int // encoded bytes, about
	res        logstore.AppendResult
	err        error
	done       chan struct{}
}

// Append queues req for the committer and waits for its outcome.
func (l *Log) Append(ctx context.Context, req logstore.AppendRequest) (logstore.AppendResult, error) {
	if err := checkCtx(ctx); err != nil {
		return logstore.AppendResult{}, err
	}
	if err := l.Failed(); err != nil {
		return logstore.AppendResult{}, fmt.Errorf("%w: an earlier commit failed: %w", logstore.ErrFailed, err)
	}
	p := &pending{ctx: ctx, req: req, size: requestSize(req), done: make(chan struct{})}
	if l.limitBytes > 0 && (p.size > l.limitBytes || len(req.Events) > l.limitEvents) {
		return logstore.AppendResult{}, fmt.Errorf("%w: %d events of %d bytes in all; the engine commits at most %d bytes and %d events at once",
			logstore.ErrBatchTooLarge, len(req.Events), p.size, l.limitBytes, l.limitEvents)
	}
	if err := l.enqueue(ctx, p); err != nil {
		return logstore.AppendResult{}, err
	}
	<-p.done
	return p.res, p.err
}

// AppendBatch implements logstore.Log.
func (l *Log) AppendBatch(ctx context.Context, reqs []logstore.AppendRequest) ([]logstore.AppendResult, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if err := l.Failed(); err != nil {
		return nil, fmt.Errorf("%w: an earlier commit failed: %w", logstore.ErrFailed, err)
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	p := &pending{ctx: ctx, batch: reqs, done: make(chan struct{})}
	events := 0
	for _, r := range reqs {
		p.size += requestSize(r)
		events += len(r.Events)
	}
	if l.limitBytes > 0 && (p.size > l.limitBytes || events > l.limitEvents) {
		return nil, fmt.Errorf("%w: a batch of %d events and %d bytes; the engine commits at most %d bytes and %d events at once",
			logstore.ErrBatchTooLarge, events, p.size, l.limitBytes, l.limitEvents)
	}
	if err := l.enqueue(ctx, p); err != nil {
		return nil, err
	}
	<-p.done
	return p.ress, p.err
}

func (l *Log) enqueue(ctx context.Context, p *pending) error {
	if err := l.rlock(); err != nil {
		return err
	}
	defer l.mu.RUnlock()
	select {
	case l.reqs <- p:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// writeOverhead is what backend.BatchLimiter counts for each Set.
const writeOverhead = 16

// requestSize is the batch size an append takes, as backend.BatchLimiter
// counts it: keys, values and a per-write overhead, for the record and its
// index entries (see encode).
func requestSize(req logstore.AppendRequest) int {
	n := 0
	for _, e := range req.Events {
		r := logstore.Record{Event: e, Stream: req.Stream}
		n += record.LogKeyLen + record.Size(&r) + writeOverhead
		n += record.StreamKeyLen(req.Stream) + record.IndexValueLen + writeOverhead
		if e.ID != "" {
			n += record.IDKeyLen(req.Stream, e.ID) + record.IndexValueLen + writeOverhead
		}
	}
	return n
}

// run is the committer goroutine: it takes the queued appends in groups
// bounded by MaxBatchEvents and MaxBatchBytes, sequences each group and
// writes it with one engine batch. In Sync mode it hands the written group to
// the syncer (syncer.go) and goes on with the next group while the syncer
// makes the previous ones durable; in NoSync mode it publishes at once.
func (l *Log) run() {
	defer close(l.done)
	if l.flights != nil {
		defer func() {
			close(l.flights)
			<-l.syncerDone
		}()
	}
	var group []*pending
	l.lastSync = time.Now()
	defer func() {
		if l.syncTimer != nil {
			l.syncTimer.Stop()
		}
	}()
	for {
		group = group[:0]
		if l.carry != nil {
			group = append(group, l.carry)
			l.carry = nil
		} else {
			select {
			case p := <-l.reqs:
				group = append(group, p)
			case <-l.syncDue():
				l.periodicSync()
				continue
			case <-l.quit:
				l.drain()
				return
			}
		}
		if group[0].checkpoint != "" {
			l.runCheckpoint(group[0])
			continue
		}
		if group[0].batch != nil {
			l.commitBatch(group[0])
			continue
		}
		events, size := len(group[0].req.Events), group[0].size
	fill:
		for events < l.cfg.MaxBatchEvents && size < l.cfg.MaxBatchBytes {
			select {
			case p := <-l.reqs:
				if p.batch != nil || p.checkpoint != "" || events+len(p.req.Events) > l.cfg.MaxBatchEvents || size+p.size > l.cfg.MaxBatchBytes {
					l.carry = p
					break fill
				}
				group = append(group, p)
				events += len(p.req.Events)
				size += p.size
			default:
				break fill
			}
		}
		l.commit(group)
		if l.unsynced() && time.Since(l.lastSync) >= l.cfg.SyncInterval {
			l.periodicSync()
		}
	}
}

// unsynced reports whether, in NoSync mode, commits wait for a sync.
func (l *Log) unsynced() bool {
	return !l.cfg.Sync && l.durable < l.Head() && l.Failed() == nil
}

// syncDue returns a channel that fires when the unsynced commits are due for
// their periodic sync, or nil when there are none.
func (l *Log) syncDue() <-chan time.Time {
	if !l.unsynced() {
		return nil
	}
	d := max(0, l.cfg.SyncInterval-time.Since(l.lastSync))
	if l.syncTimer == nil {
		l.syncTimer = time.NewTimer(d)
	} else {
		l.syncTimer.Reset(d) // since Go 1.23, Reset drops a stale expiry
	}
	return l.syncTimer.C
}

// periodicSync makes the commits so far durable, in NoSync mode. A failed
// sync stops the log as a failed commit does: what reached the disk is
// unknown, and a retried sync could report success for data that is gone.
func (l *Log) periodicSync() {
	head := l.Head()
	if err := l.kv.Sync(); err != nil {
		err = fmt.Errorf("periodic sync: %w", err)
		l.fail(err)
		return
	}
	l.lastSync = time.Now()
	l.durable = head
	if l.cfg.OnSync != nil {
		l.cfg.OnSync(head)
	}
}

// drain fails every queued append with ErrClosed. Close holds no enqueue
// open any more, so the queue only shrinks.
func (l *Log) drain() {
	if l.carry != nil {
		l.finish(l.carry, fmt.Errorf("%w", backend.ErrClosed))
		l.carry = nil
	}
	for {
		select {
		case p := <-l.reqs:
			l.finish(p, fmt.Errorf("%w", backend.ErrClosed))
		default:
			return
		}
	}
}

func (l *Log) finish(p *pending, err error) {
	p.err = err
	close(p.done)
}

// commit sequences a group, writes it in one batch and publishes it (NoSync)
// or hands it to the syncer (Sync).
func (l *Log) commit(group []*pending) {
	if err := l.Failed(); err != nil {
		for _, p := range group {
			l.finish(p, fmt.Errorf("%w: an earlier commit failed: %w", logstore.ErrFailed, err))
		}
		return
	}
	b := l.kv.NewBatch()
	defer b.Close()
	s := newSequencer(l, l.written, l.cfg.Now().UTC())
	// waiting holds the appends written into the batch and the retries of
	// appends that are not published yet: all complete only once the batch
	// (and every earlier one) is durable and published, and all fail if a
	// write or sync on the way fails.
	waiting := make([]*pending, 0, len(group))
	for _, p := range group {
		if err := checkCtx(p.ctx); err != nil {
			l.finish(p, err)
			continue
		}
		res, out, err := s.add(p.req, b)
		p.res = res
		if err == nil && out != added && l.cfg.Observer != nil {
			l.cfg.Observer.Retry()
		}
		switch {
		case err != nil:
			l.finish(p, err)
		case out == retryCommitted && res.Last <= logstore.Offset(l.applied.Load()):
			// The original append is durable, published and applied.
			l.finish(p, nil)
		default:
			waiting = append(waiting, p)
		}
	}
	if len(waiting) == 0 {
		return
	}
	l.write(b, s, waiting)
}

// commitBatch commits the requests of one AppendBatch alone, all or nothing.
func (l *Log) commitBatch(p *pending) {
	if err := l.Failed(); err != nil {
		l.finish(p, fmt.Errorf("%w: an earlier commit failed: %w", logstore.ErrFailed, err))
		return
	}
	if err := checkCtx(p.ctx); err != nil {
		l.finish(p, err)
		return
	}
	b := l.kv.NewBatch()
	defer b.Close()
	s := newSequencer(l, l.written, l.cfg.Now().UTC())
	ress := make([]logstore.AppendResult, len(p.batch))
	for i, req := range p.batch {
		res, out, err := s.add(req, b)
		if err == nil && out != added {
			err = &logstore.WrongExpectedVersionError{Stream: req.Stream, Expected: req.Expected, Actual: s.streams[req.Stream].version}
		}
		if err != nil {
			l.finish(p, fmt.Errorf("request %d of the batch: %w", i, err))
			return
		}
		ress[i] = res
	}
	p.ress = ress
	l.write(b, s, []*pending{p})
}

// write writes a sequenced group's batch and then publishes it (NoSync mode)
// or hands it to the syncer (Sync mode), which completes waiting.
func (l *Log) write(b backend.Batch, s *sequencer, waiting []*pending) {
	f := &flight{head: s.head, records: s.records, waiting: waiting, appends: s.appends, bytes: s.bytes, start: time.Now()}
	if len(s.records) > 0 {
		if err := b.Commit(false); err != nil {
			// The batch may or may not be in the engine: stop, and let a
			// reopen find out. A sync of the groups before may have failed
			// first, and its error is the cause: wait for the syncer to be
			// through them, and report the first failure.
			l.drainFlights()
			l.fail(err)
			l.failAll(waiting, fmt.Errorf("%w: commit failed: %w", logstore.ErrFailed, l.Failed()))
			return
		}
		l.written = s.head
		for stream, st := range s.streams {
			l.versions.put(stream, st.version)
		}
	}
	if l.flights == nil {
		l.publish(f)
		return
	}
	l.flights <- f
}

func (l *Log) failAll(ps []*pending, err error) {
	for _, p := range ps {
		p.res, p.ress = logstore.AppendResult{}, nil
		l.finish(p, err)
	}
}

// publish makes a durable group visible (head, OnCommit) and completes its
// appends.
func (l *Log) publish(f *flight) {
	if len(f.records) > 0 && l.cfg.Observer != nil {
		l.cfg.Observer.Commit(f.appends, len(f.records), f.bytes, time.Since(f.start))
	}
	if len(f.records) > 0 {
		l.head.Store(uint64(f.head))
		if l.cfg.OnCommit != nil {
			l.cfg.OnCommit(f.records)
		}
		l.applied.Store(uint64(f.head))
	}
	for _, p := range f.waiting {
		l.finish(p, nil)
	}
}

// encode writes one record and its index entries into b. The batch copies
// what it is given, so every key and value is built in one scratch buffer:
// no allocation per event.
func (l *Log) encode(b backend.Batch, r *logstore.Record) {
	buf := record.Append(l.buf[:0], r)
	n := len(buf)
	buf = record.AppendLogKey(buf, r.Offset)
	k := len(buf)
	buf = record.AppendStreamKey(buf, r.Stream, r.Version)
	v := len(buf)
	buf = binary.BigEndian.AppendUint64(buf, uint64(r.Offset))
	b.Set(buf[n:k], buf[:n])
	b.Set(buf[k:v], buf[v:])
	if r.ID != "" {
		i := len(buf)
		buf = record.AppendIDKey(buf, r.Stream, r.ID)
		j := len(buf)
		buf = binary.BigEndian.AppendUint64(buf, r.Version)
		b.Set(buf[i:j], buf[j:])
	}
	l.buf = buf
}
