package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/stretchr/testify/require"
)

// awkward are strings that SQL built by concatenation would get wrong.
var awkward = []string{
	`o'brien`,
	`back\slash\`,
	`"quoted" and ""doubled""`,
	`'; DROP TABLE es.events; --`,
	`Robert'); DROP TABLE es.head;--`,
	`x' OR '1'='1`,
	`$1 $$ $tag$ body $tag$`,
	`%s %d %% %v`,
	`E'\\x00' \0 \x00`,
	` leading and trailing `,
	"tab\tnewline\ncarriage\r",
	"controls \x01\x1f\x7f",
	"Ωμέγα 流 🙂 ü\u200b\ufeff",
	"null",
	"NULL",
	strings.Repeat("ü", 127), // 254 bytes
}

// TestAwkwardStringsRoundTrip: stream names, types, ids, data and metadata
// with quotes, backslashes, SQL, format verbs, control characters and
// unicode are stored and read back exactly (ReadLog, ReadStream,
// StreamVersion, another process's store), the ids are recognised by a
// retry, and the tables are unharmed.
func TestAwkwardStringsRoundTrip(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	s := openStore(t, env.options())
	ctx := context.Background()
	var want []eventstore.Record
	for i, str := range awkward {
		e := eventstore.Event{
			ID:       str,
			Type:     str,
			Data:     append([]byte{0, '\\', '\''}, str...),
			Metadata: map[string]string{str: str, "k": str},
		}
		res, err := s.Append(ctx, str, eventstore.NoStream, e)
		require.NoError(t, err, "%q", str)
		require.Equal(t, eventstore.Offset(i+1), res.First)
		again, err := s.Append(ctx, str, eventstore.NoStream, e)
		require.NoError(t, err, "the retry of %q", str)
		require.Equal(t, res, again, "the retry of %q", str)
		want = append(want, eventstore.Record{Event: e, Stream: str, Offset: res.First, Version: 1})
	}
	other := openStore(t, env.options())
	waitFor(t, 30*time.Second, "the other store to publish the appends", func() bool { return other.Head() == s.Head() })
	for _, st := range []*eventstore.Store{s, other} {
		recs := readAll(t, st)
		require.Len(t, recs, len(want))
		for i, r := range recs {
			w := want[i]
			require.Equal(t, w.Stream, r.Stream)
			require.Equal(t, w.Version, r.Version)
			require.Equal(t, w.Event, r.Event)
			byStream, err := st.ReadStream(ctx, w.Stream, 0, 0)
			require.NoError(t, err)
			require.Len(t, byStream, 1, "stream %q", w.Stream)
			require.Equal(t, w.Event, byStream[0].Event)
			v, err := st.StreamVersion(ctx, w.Stream)
			require.NoError(t, err)
			require.Equal(t, uint64(1), v, "stream %q", w.Stream)
		}
	}
	var n int
	require.NoError(t, env.conn(t).QueryRow(ctx, `SELECT count(*) FROM `+qt("events")).Scan(&n))
	require.Equal(t, len(awkward), n)
	requireDenseSQL(t, env.conn(t))
	_, err := s.Verify(ctx)
	require.NoError(t, err)
}

// TestSchemaNames: a schema name that is not 1 to 63 lower-case letters,
// digits and underscores, not starting with a digit, fails Open with an
// error that names it and the rule, and creates nothing; names at the
// limits work, and two stores of a 63-character schema (whose notification
// channel name is cut to PostgreSQL's 63 bytes) hear each other's appends.
func TestSchemaNames(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	conn := env.conn(t)
	schemas := func() []string {
		rows, err := conn.Query(ctx, `SELECT schema_name FROM information_schema.schemata
			WHERE schema_name NOT LIKE 'pg\_%' AND schema_name NOT IN ('public', 'information_schema') ORDER BY 1`)
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var name string
			require.NoError(t, rows.Scan(&name))
			out = append(out, name)
		}
		require.NoError(t, rows.Err())
		return out
	}
	for _, bad := range []string{"Orders", "a-b", strings.Repeat("a", 64), "1x", "x; drop", `es"; DROP SCHEMA public; --`, "é", " es", "es.x"} {
		_, err := openIn(filepath.Join(t.TempDir(), "store"), postgres.Options{DSN: env.dsn(), Schema: bad})
		require.Error(t, err, "schema %q", bad)
		require.Contains(t, err.Error(), fmt.Sprintf("schema %q", bad))
		require.Contains(t, err.Error(), "lower-case letters, digits and underscores")
	}
	require.Empty(t, schemas(), "a bad schema name created a schema")

	long := strings.Repeat("z", 63)
	for _, good := range []string{"_", "x9", long} {
		s := openStore(t, postgres.Options{DSN: env.dsn(), Schema: good})
		_, err := s.Append(ctx, "s", eventstore.NoStream, ev("", "T", good))
		require.NoError(t, err, "schema %q", good)
	}
	require.Equal(t, []string{"_", "x9", long}, schemas())

	quiet := postgres.Options{DSN: env.dsn(), Schema: long, PollInterval: time.Hour}
	a, b := openStore(t, quiet), openStore(t, quiet)
	sub := subscribe(t, b)
	res, err := a.Append(ctx, "s", eventstore.Any, ev("", "T", "heard"))
	require.NoError(t, err)
	recs := sub.waitSeen(t, int64(res.Last), 30*time.Second)
	require.Equal(t, "heard", string(recs[res.Last-1].Data))
}
