package postgres

import (
	"context"
	"fmt"

	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// pending is one append, or one AppendBatch, waiting for the committer.
type pending struct {
	ctx   context.Context
	req   logstore.AppendRequest
	batch []logstore.AppendRequest // AppendBatch: committed alone, all or nothing
	ress  []logstore.AppendResult
	size  int
	res   logstore.AppendResult
	err   error
	done  chan struct{}
}

// Append implements logstore.Log. It waits for the outcome until ctx is
// done; an append whose context ends while its commit is under way may have
// been committed, and fails with ErrUnknownOutcome.
func (l *Log) Append(ctx context.Context, req logstore.AppendRequest) (logstore.AppendResult, error) {
	if err := checkCtx(ctx); err != nil {
		return logstore.AppendResult{}, err
	}
	p := &pending{ctx: ctx, req: req, size: requestSize(req), done: make(chan struct{})}
	if err := l.enqueue(ctx, p); err != nil {
		return logstore.AppendResult{}, err
	}
	if err := l.wait(ctx, p); err != nil {
		return logstore.AppendResult{}, err
	}
	return p.res, p.err
}

// AppendBatch implements logstore.Log: the requests are committed in one
// transaction, all or none.
func (l *Log) AppendBatch(ctx context.Context, reqs []logstore.AppendRequest) ([]logstore.AppendResult, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	p := &pending{ctx: ctx, batch: reqs, done: make(chan struct{})}
	for _, r := range reqs {
		p.size += requestSize(r)
	}
	if err := l.enqueue(ctx, p); err != nil {
		return nil, err
	}
	if err := l.wait(ctx, p); err != nil {
		return nil, err
	}
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

// wait waits for p's outcome, or for ctx: the committer may have p's
// transaction under way, so a done ctx leaves its outcome unknown.
func (l *Log) wait(ctx context.Context, p *pending) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", logstore.ErrUnknownOutcome, context.Cause(ctx))
	}
}

func (l *Log) finish(p *pending, err error) {
	p.err = err
	close(p.done)
}

// requestSize is about the bytes an append sends.
func requestSize(req logstore.AppendRequest) int {
	n := 0
	for _, e := range req.Events {
		r := logstore.Record{Event: e, Stream: req.Stream}
		n += record.Size(&r) + len(req.Stream) + len(e.ID) + 32
	}
	return n
}
