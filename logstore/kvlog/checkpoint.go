package kvlog

import (
	"context"
	"fmt"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/logstore"
)

var _ logstore.Checkpointer = (*Log)(nil)

// Checkpoint implements logstore.Checkpointer when the engine is a
// backend.Checkpointer. The committer runs it between two commits, so the
// copy holds exactly the records up to the head it returns; appends wait
// while the engine writes the copy (with hard links where it can, this is
// quick).
func (l *Log) Checkpoint(ctx context.Context, dir string) (logstore.Offset, error) {
	if _, ok := l.kv.(backend.Checkpointer); !ok {
		return 0, fmt.Errorf("%w: the engine cannot checkpoint itself; back up with a dump instead", logstore.ErrUnsupported)
	}
	if err := checkCtx(ctx); err != nil {
		return 0, err
	}
	p := &pending{ctx: ctx, checkpoint: dir, done: make(chan struct{})}
	if err := l.enqueue(ctx, p); err != nil {
		return 0, err
	}
	<-p.done
	return p.res.Last, p.err
}

// runCheckpoint writes a checkpoint on the committer goroutine.
func (l *Log) runCheckpoint(p *pending) {
	if err := checkCtx(p.ctx); err != nil {
		l.finish(p, err)
		return
	}
	// Every group written so far is published first: the copy holds
	// exactly the records up to the head, all durable.
	l.drainFlights()
	head := l.Head()
	if err := l.Failed(); err != nil {
		l.finish(p, fmt.Errorf("%w: no checkpoint of a failed log: %w", logstore.ErrFailed, err))
		return
	}
	if err := l.kv.(backend.Checkpointer).Checkpoint(p.checkpoint); err != nil {
		l.finish(p, fmt.Errorf("checkpoint into %s: %w", p.checkpoint, err))
		return
	}
	p.res.Last = head
	l.finish(p, nil)
}
