package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

// TestDenseOffsetsManyWriters has three writer processes of six goroutines
// and four goroutines of this process append to shared streams at once,
// while two reader processes and this one follow the log with ReadLog,
// Subscribe and SQL: no reader may ever see offset N+1 before N, a gap or an
// offset twice, and each must end with the whole log, the same one.
func TestDenseOffsetsManyWriters(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	s := openStore(t, env.options())
	local := startReaders(s, env.conn(t))
	defer local.stop()

	var readers []*childProc
	for i := range 2 {
		c := startChild(t, fmt.Sprintf("reader-%d", i), env, childSpec{Role: "reader"}, nil)
		readers = append(readers, c)
	}
	for _, c := range readers {
		var m readerMsg
		c.recv(&m)
		require.True(t, m.Ready)
	}
	streams := []string{"a", "b", "c", "d", "e"}
	w := startWriters(t, env, 3, func(int) writerArgs {
		return writerArgs{Goroutines: 6, Appends: 25, Streams: streams, Mode: "any", MaxEvents: 3, Seed: 1}
	})

	// This process writes too, at the same time.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				_, err := s.Append(context.Background(), streams[(g+i)%len(streams)], eventstore.Any,
					ev(fmt.Sprintf("local-g%d-%d", g, i), "Local", "x"), ev(fmt.Sprintf("local-g%d-%d-b", g, i), "Local", "y"))
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	appends, _ := w.run(t)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 3*6*25, appends)

	head := requireDenseSQL(t, env.conn(t))
	waitFor(t, time.Minute, "this process to publish the whole log", func() bool { return int64(s.Head()) >= head })
	recs := readAll(t, s)
	require.Len(t, recs, int(head))
	want := logDigest(recs)

	for _, c := range readers {
		c.send(readerMsg{Head: head})
	}
	require.NoError(t, local.waitReached(head, time.Minute))
	digests, polls, err := local.stop()
	require.NoError(t, err)
	for i, d := range digests {
		require.Equal(t, want, d, "the in-process %s reader saw another log", readerNames[i])
	}
	for _, c := range readers {
		var m readerMsg
		c.recv(&m)
		for i, d := range m.Digests {
			require.Equal(t, want, d, "the %s reader of %s saw another log", readerNames[i], c.name)
		}
		c.wait()
		t.Logf("%s polled %v times", c.name, m.Polls)
	}
	t.Logf("%d events; this process polled %v times", head, polls)
	w.finish(t, head)
	_, err = s.Verify(context.Background())
	require.NoError(t, err)
}
