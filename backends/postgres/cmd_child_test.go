package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// cmdReq is a request to a cmd child, which runs its requests one at a
// time on its store.
type cmdReq struct {
	// Op is "append", "version" (of Stream), "head", "wait_head" (until
	// the head reaches Head) or "burst" (Goroutines goroutines make
	// Appends appends of two events each, with Any, to Stream; the events'
	// ids start with Prefix).
	Op       string             `json:"op"`
	Stream   string             `json:"stream,omitempty"`
	Expected int64              `json:"expected,omitempty"`
	Events   []eventstore.Event `json:"events,omitempty"`
	// Barrier, when not 0, is an advisory lock that the append waits for
	// (shared) before it starts: the test holds it exclusively until every
	// process it means to start together waits for it.
	Barrier    int64  `json:"barrier,omitempty"`
	Head       uint64 `json:"head,omitempty"`
	Goroutines int    `json:"goroutines,omitempty"`
	Appends    int    `json:"appends,omitempty"`
	Prefix     string `json:"prefix,omitempty"`
}

// cmdResp is a cmd child's answer.
type cmdResp struct {
	Res          eventstore.AppendResult `json:"res"`
	Err          string                  `json:"err,omitempty"`
	WrongVersion bool                    `json:"wrong_version,omitempty"`
	Actual       uint64                  `json:"actual,omitempty"`
	Unknown      bool                    `json:"unknown,omitempty"`
	Version      uint64                  `json:"version,omitempty"`
	Head         uint64                  `json:"head,omitempty"`
	Acks         []ack                   `json:"acks,omitempty"`
}

// cmdChild opens the store and runs requests until its input ends.
func cmdChild(cio *childIO, spec childSpec) error {
	s, err := spec.open()
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, spec.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if err := cio.send(cmdResp{Head: uint64(s.Head())}); err != nil {
		return err
	}
	for {
		var req cmdReq
		if err := cio.recv(&req); err != nil {
			return s.Close() // the test is done with this child
		}
		resp, err := runCmd(ctx, s, conn, req)
		if err != nil {
			return fmt.Errorf("%s: %w", req.Op, err)
		}
		if err := cio.send(resp); err != nil {
			return err
		}
	}
}

func runCmd(ctx context.Context, s *eventstore.Store, conn *pgx.Conn, req cmdReq) (cmdResp, error) {
	var resp cmdResp
	switch req.Op {
	case "append":
		if req.Barrier != 0 {
			if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock_shared($1)`, req.Barrier); err != nil {
				return resp, err
			}
			if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock_shared($1)`, req.Barrier); err != nil {
				return resp, err
			}
		}
		res, err := s.Append(ctx, req.Stream, eventstore.ExpectedVersion(req.Expected), req.Events...)
		resp.Res = res
		if err != nil {
			resp.Err = err.Error()
			resp.Unknown = errors.Is(err, eventstore.ErrUnknownOutcome)
			var wev *eventstore.WrongExpectedVersionError
			if errors.As(err, &wev) {
				resp.WrongVersion, resp.Actual = true, wev.Actual
			}
		}
	case "version":
		v, err := s.StreamVersion(ctx, req.Stream)
		if err != nil {
			return resp, err
		}
		resp.Version = v
	case "head":
	case "wait_head":
		deadline := time.Now().Add(time.Minute)
		for uint64(s.Head()) < req.Head {
			if time.Now().After(deadline) {
				return resp, fmt.Errorf("head %d, still not %d after a minute", s.Head(), req.Head)
			}
			time.Sleep(5 * time.Millisecond)
		}
	case "burst":
		acks, err := burst(ctx, s, req)
		if err != nil {
			return resp, err
		}
		resp.Acks = acks
	default:
		return resp, fmt.Errorf("unknown op")
	}
	resp.Head = uint64(s.Head())
	return resp, nil
}

// burst runs the appends of a "burst" request.
func burst(ctx context.Context, s *eventstore.Store, req cmdReq) ([]ack, error) {
	var mu sync.Mutex
	var acks []ack
	var errs []error
	var wg sync.WaitGroup
	for g := range req.Goroutines {
		wg.Go(func() {
			for i := range req.Appends {
				id := fmt.Sprintf("%s-g%d-%d", req.Prefix, g, i)
				events := []eventstore.Event{ev(id+"-a", "Burst", id), ev(id+"-b", "Burst", id)}
				res, err := s.Append(ctx, req.Stream, eventstore.Any, events...)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					acks = append(acks, ack{Goroutine: g, Stream: req.Stream, Expected: int64(eventstore.Any), Res: res, Events: events})
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return acks, errors.Join(errs...)
}

// startCmd starts a cmd child and waits until its store is open.
func startCmd(t *testing.T, name string, env pgEnv, spec childSpec) *childProc {
	t.Helper()
	return startCmds(t, env, spec, name)[0]
}

// startCmds starts cmd children, which open their stores at the same time,
// and waits until each has.
func startCmds(t *testing.T, env pgEnv, spec childSpec, names ...string) []*childProc {
	t.Helper()
	spec.Role = "cmd"
	var out []*childProc
	for _, name := range names {
		out = append(out, startChild(t, name, env, spec, nil))
	}
	for _, c := range out {
		var r cmdResp
		c.recv(&r)
	}
	return out
}

// barrier is an advisory lock that the test holds while cmd children line
// up behind it, and releases to start them together.
type barrier struct {
	t    *testing.T
	conn *pgx.Conn
	key  int64
}

func holdBarrier(t *testing.T, env pgEnv, key int64) *barrier {
	t.Helper()
	b := &barrier{t: t, conn: env.conn(t), key: key}
	_, err := b.conn.Exec(context.Background(), `SELECT pg_advisory_lock($1)`, key)
	require.NoError(t, err)
	return b
}

// release waits until n processes wait for the lock, then releases it.
func (b *barrier) release(n int) {
	b.t.Helper()
	ctx := context.Background()
	waitFor(b.t, time.Minute, fmt.Sprintf("%d processes at barrier %d", n, b.key), func() bool {
		var waiting int
		err := b.conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND objid = $1
			  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, b.key).Scan(&waiting)
		require.NoError(b.t, err)
		return waiting >= n
	})
	_, err := b.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, b.key)
	require.NoError(b.t, err)
}
