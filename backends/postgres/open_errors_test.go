package postgres_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/stretchr/testify/require"
)

// silentServer accepts TCP connections and never answers: a server that
// hangs. It is closed when the test ends.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// closedPort returns an address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestOpenFailsClearly: Open with a DSN that cannot work fails with an
// error that says what is wrong, within the WithOpenTimeout deadline when
// the server does not answer, and leaves the directory usable: the last
// Open, with a good DSN, succeeds in it.
func TestOpenFailsClearly(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	dir := filepath.Join(t.TempDir(), "store")
	const timeout = time.Second
	for _, c := range []struct {
		name      string
		dsn       string
		want      []string
		deadline  bool   // the error wraps context.DeadlineExceeded
		forbidden string // must not be in the message
	}{
		{name: "silent server", dsn: fmt.Sprintf("postgres://postgres@%s/x?sslmode=disable", silentServer(t)),
			want: []string{"connect to host", "127.0.0.1"}, deadline: true},
		{name: "nothing listens", dsn: fmt.Sprintf("postgres://postgres@%s/x?sslmode=disable", closedPort(t)),
			want: []string{"connect to host", "refused", "check the DSN"}},
		{name: "no such database", dsn: env.srv.DSN("no_such_db"), want: []string{`database "no_such_db" does not exist`}},
		{name: "no such user", dsn: fmt.Sprintf("postgres://nobody@127.0.0.1:%d/%s?sslmode=disable", env.srv.Port(), env.db),
			want: []string{`role "nobody" does not exist`}},
		{name: "malformed", dsn: "postgres://app:s3cret@127.0.0.1:notaport/x", want: []string{"parse the DSN"}, forbidden: "s3cret"},
		{name: "unknown sslmode", dsn: env.dsn() + "&sslmode=sometimes", want: []string{"parse the DSN", "sslmode"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			s, err := openIn(dir, postgres.Options{DSN: c.dsn, Schema: testSchema}, eventstore.WithOpenTimeout(timeout))
			elapsed := time.Since(start)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			t.Logf("after %v: %v", elapsed.Round(time.Millisecond), err)
			require.Less(t, elapsed, timeout+20*time.Second, "Open took far longer than its timeout")
			for _, w := range c.want {
				require.Contains(t, err.Error(), w)
			}
			if c.deadline {
				require.ErrorIs(t, err, context.DeadlineExceeded)
			}
			if c.forbidden != "" {
				require.NotContains(t, err.Error(), c.forbidden)
			}
		})
	}
	s, err := openIn(dir, env.options())
	require.NoError(t, err, "Open with a good DSN after the failed ones")
	require.NoError(t, s.Close())
}
