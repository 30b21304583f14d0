package peers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/internal/pgtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(pgtest.Main(m)) }

func ev(data string) Event { return Event{Type: "T", Data: []byte(data)} }

func open(t *testing.T, p Peer, dir string) Log {
	t.Helper()
	l, err := p.Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func scanAll(t *testing.T, l Log) []Event {
	t.Helper()
	var got []Event
	if err := l.Scan(context.Background(), func(e Event) error {
		e.Data = append([]byte(nil), e.Data...)
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestScanInOrder appends to two streams, reopens, and reads every event
// back in position order, with its stream and version where the peer
// keeps them; then appends after the reopen.
func TestScanInOrder(t *testing.T) {
	ctx := context.Background()
	for _, p := range All() {
		t.Run(p.Name, func(t *testing.T) {
			dir := t.TempDir()
			l := open(t, p, dir)
			for i, a := range []struct {
				stream string
				events []Event
			}{
				{"a", []Event{ev("a1")}},
				{"b", []Event{ev("b1"), ev("b2"), ev("b3")}},
				{"a", []Event{ev("a2"), ev("a3")}},
			} {
				last, err := l.Append(ctx, a.stream, Any, a.events)
				if err != nil {
					t.Fatal(err)
				}
				if want := []uint64{1, 4, 6}[i]; last != want {
					t.Errorf("append %d: last position %d, want %d", i, last, want)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = open(t, p, dir)
			defer l.Close()
			if _, err := l.Append(ctx, "b", Any, []Event{ev("b4")}); err != nil {
				t.Fatal(err)
			}
			got := scanAll(t, l)
			want := []struct {
				data, stream string
				version      uint64
			}{{"a1", "a", 1}, {"b1", "b", 1}, {"b2", "b", 2}, {"b3", "b", 3}, {"a2", "a", 2}, {"a3", "a", 3}, {"b4", "b", 4}}
			if len(got) != len(want) {
				t.Fatalf("%d events, want %d", len(got), len(want))
			}
			for i, w := range want {
				e := got[i]
				if e.Position != uint64(i+1) || string(e.Data) != w.data {
					t.Errorf("event %d: position %d, data %q; want %d, %q", i, e.Position, e.Data, i+1, w.data)
				}
				if p.Streams && (e.Stream != w.stream || e.Version != w.version || e.Type != "T") {
					t.Errorf("event %d: %s@%d type %q, want %s@%d type T", i, e.Stream, e.Version, e.Type, w.stream, w.version)
				}
			}
		})
	}
}

// TestWrongVersion checks that the peers with streams reject an append
// whose expected version is not the stream's, and write nothing.
func TestWrongVersion(t *testing.T) {
	ctx := context.Background()
	for _, p := range All() {
		if !p.Streams {
			continue
		}
		t.Run(p.Name, func(t *testing.T) {
			l := open(t, p, t.TempDir())
			defer l.Close()
			if _, err := l.Append(ctx, "s", 0, []Event{ev("1"), ev("2")}); err != nil {
				t.Fatal(err)
			}
			for _, expected := range []int64{0, 1, 3} {
				if _, err := l.Append(ctx, "s", expected, []Event{ev("x"), ev("y")}); !errors.Is(err, ErrWrongVersion) {
					t.Errorf("expected version %d on a stream at 2: %v, want ErrWrongVersion", expected, err)
				}
			}
			if _, err := l.Append(ctx, "new", 1, []Event{ev("x")}); !errors.Is(err, ErrWrongVersion) {
				t.Errorf("expected version 1 on a new stream: %v, want ErrWrongVersion", err)
			}
			if last, err := l.Append(ctx, "s", 2, []Event{ev("3")}); err != nil || last != 3 {
				t.Fatalf("right version: %d, %v", last, err)
			}
			if got := scanAll(t, l); len(got) != 3 {
				t.Errorf("%d events after the rejected appends, want 3", len(got))
			}
		})
	}
}

// TestConcurrentAppends has 8 writers append to their own streams with
// exact versions: every append succeeds, and the log holds each once.
func TestConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	for _, p := range All() {
		t.Run(p.Name, func(t *testing.T) {
			l := open(t, p, t.TempDir())
			defer l.Close()
			const writers, each = 8, 25
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						if _, err := l.Append(ctx, fmt.Sprint("s", w), int64(i), []Event{ev(fmt.Sprint(w, "/", i))}); err != nil {
							errs[w] = err
							return
						}
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]bool{}
			for i, e := range scanAll(t, l) {
				if e.Position != uint64(i+1) || seen[string(e.Data)] {
					t.Fatalf("event %d: position %d, data %q (seen: %v)", i, e.Position, e.Data, seen[string(e.Data)])
				}
				seen[string(e.Data)] = true
			}
			if len(seen) != writers*each {
				t.Errorf("%d events, want %d", len(seen), writers*each)
			}
		})
	}
}

// TestDiskGrows appends past the disk peer's first preallocated chunk.
func TestDiskGrows(t *testing.T) {
	l := open(t, Disk, t.TempDir())
	defer l.Close()
	big := Event{Data: make([]byte, diskChunk/3)}
	for range 4 {
		if _, err := l.Append(context.Background(), "", Any, []Event{big}); err != nil {
			t.Fatal(err)
		}
	}
	if got := scanAll(t, l); len(got) != 4 || len(got[3].Data) != diskChunk/3 {
		t.Fatalf("%d events", len(got))
	}
}

// tempTarget gives the workloads directories under the test's.
func tempTarget(t *testing.T, name string) benchsuite.Target {
	return benchsuite.Target{Backend: name, TempDir: func() (string, error) { return os.MkdirTemp(t.TempDir(), "w-") }}
}

// TestWorkloads runs every workload of every peer at a small size.
func TestWorkloads(t *testing.T) {
	defer benchsuite.Cleanup()
	for _, p := range All() {
		ws := Workloads(p)
		ws[len(ws)-1] = RestartWorkload(p, 500)
		for _, w := range ws {
			t.Run(p.Name+"/"+w.Name, func(t *testing.T) {
				if w.Standalone != p.Name || w.RunsOn("memory", true) {
					t.Errorf("workload %s of %s: Standalone %q", w.Name, p.Name, w.Standalone)
				}
				m, err := w.Run(context.Background(), tempTarget(t, p.Name), 40)
				if err != nil {
					t.Fatal(err)
				}
				if m.Events == 0 || m.EventsPerSec() <= 0 {
					t.Errorf("%+v", m)
				}
			})
		}
	}
	// The disk: 1, 16 and 64 writers, appends of 100, scan, restart; the
	// others without 64 writers.
	if n := len(AllWorkloads()); n != 6+3*5 {
		t.Errorf("%d workloads, want 21", n)
	}
}

// TestPgxWorkloads runs the plain pgx baselines against a throwaway
// server.
func TestPgxWorkloads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	for _, w := range PgxWorkloads() {
		t.Run(w.Name, func(t *testing.T) {
			tg := tempTarget(t, PgxName)
			tg.Config = func(string) any { return srv.DSN(db) }
			m, err := w.Run(context.Background(), tg, 40)
			if err != nil {
				t.Fatal(err)
			}
			if m.Ops != 40 || m.Events < 40 || len(m.Latencies) != 40 {
				t.Errorf("%+v", m)
			}
		})
	}
	if _, err := PgxWorkloads()[0].Run(context.Background(), tempTarget(t, PgxName), 1); err == nil {
		t.Error("no error without a DSN")
	}
}
