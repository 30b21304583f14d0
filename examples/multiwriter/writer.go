package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore"
)

// account is what a writer knows of an account: the version of its stream
// it last read or wrote, and the balance at that version.
type account struct {
	version uint64
	balance int64
}

// tally counts what a writer had to retry.
type tally struct {
	conflicts int // another writer appended first: read again, decide again
	unknown   int // the commit's outcome was unknown: the same append again
}

// write captures writer w's payments, each with the exact version of its
// account.
func write(ctx context.Context, c config, w int, out io.Writer) (err error) {
	s, err := c.open(filepath.Join(c.dir, fmt.Sprintf("writer-%d", w)))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	known := map[string]*account{}
	var t tally
	for _, p := range plan(c, w) {
		if err := capture(ctx, s, known, p, &t); err != nil {
			return fmt.Errorf("payment %s: %w", p.id, err)
		}
	}
	fmt.Fprintf(out, "captured %d payments; %d conflicts with other writers, each read again and decided again; %d unknown outcomes, each retried\n",
		c.payments, t.conflicts, t.unknown)
	return nil
}

// capture appends the payment to its account with the new balance, expecting
// the exact version that balance was computed from. When another writer
// appended first, it reads the account's new events and decides again.
func capture(ctx context.Context, s *eventstore.Store, known map[string]*account, p payment, t *tally) error {
	a := known[p.account]
	if a == nil {
		a = &account{}
		known[p.account] = a
	}
	for {
		if err := catchUp(ctx, s, p.account, a); err != nil {
			return err
		}
		ev := PaymentCaptured{Payment: p.id, Amount: p.amount, Balance: a.balance + p.amount}
		data, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		e := eventstore.Event{ID: p.id, Type: eventType, Data: data}
		res, err := appendRetrying(ctx, s, p.account, eventstore.ExpectedVersion(a.version), e, t)
		switch {
		case err == nil:
			a.version, a.balance = res.Version, ev.Balance
			return nil
		case errors.Is(err, eventstore.ErrWrongExpectedVersion):
			t.conflicts++
		default:
			return err
		}
	}
}

// catchUp reads the account's events after the version a knows.
func catchUp(ctx context.Context, s *eventstore.Store, stream string, a *account) error {
	recs, err := s.ReadStream(ctx, stream, a.version+1, 0)
	if err != nil {
		return err
	}
	for _, r := range recs {
		ev, err := decode(r.Data)
		if err != nil {
			return fmt.Errorf("%s version %d: %w", stream, r.Version, err)
		}
		a.version, a.balance = r.Version, ev.Balance
	}
	return nil
}

// appendRetrying appends, and repeats the very same append when its outcome
// is unknown (the connection broke during the commit): with the same exact
// expected version and the same event ID, an append that was committed is
// recognised and returns its result, and one that was not is written once.
// Any other error is the caller's.
func appendRetrying(ctx context.Context, s *eventstore.Store, stream string, expected eventstore.ExpectedVersion, e eventstore.Event, t *tally) (eventstore.AppendResult, error) {
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		res, err := s.Append(ctx, stream, expected, e)
		if !errors.Is(err, eventstore.ErrUnknownOutcome) || attempt == 10 {
			return res, err
		}
		t.unknown++
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return res, err
		}
		wait = min(2*wait, 2*time.Second)
	}
}
