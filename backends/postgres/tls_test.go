package postgres_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/internal/pgtest"
	"github.com/stretchr/testify/require"
)

// TestTLS: against a server with TLS, a DSN with sslmode=require, and one
// with sslmode=verify-full and the server's certificate, work, and every
// connection of the store uses TLS (pg_stat_ssl); sslmode=require against
// a server without TLS fails Open with an error that says so.
func TestTLS(t *testing.T) {
	t.Parallel()
	env := ownEnv(t, pgtest.WithTLS())
	require.Contains(t, env.dsn(), "sslmode=require")
	ctx := context.Background()
	verify := env.options()
	verify.DSN += "&sslmode=verify-full&sslrootcert=" + url.QueryEscape(env.srv.RootCertFile())
	for i, o := range []postgres.Options{env.options(), verify} {
		s := openStore(t, o)
		res, err := s.Append(ctx, "tls", eventstore.ExpectedVersion(i), ev("", "T", "over TLS"))
		require.NoError(t, err)
		recs, err := s.ReadLog(ctx, res.First, 0)
		require.NoError(t, err)
		require.Equal(t, "over TLS", string(recs[0].Data))
		var plain, all int
		require.NoError(t, env.conn(t).QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT s.ssl), count(*)
			FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
			WHERE a.datname = current_database() AND a.application_name = 'eventstore'`).Scan(&plain, &all))
		require.NotZero(t, all)
		require.Zero(t, plain, "connections of the store without TLS")
		require.NoError(t, s.Close())
	}

	plainEnv := newEnv(t)
	o := plainEnv.options()
	o.DSN += "&sslmode=require"
	_, err := openIn(t.TempDir(), o)
	require.Error(t, err)
	t.Log(err)
	require.Contains(t, err.Error(), "TLS")
}
