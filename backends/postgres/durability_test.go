package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestDurabilitySetsSynchronousCommit: a trigger on the events table
// records synchronous_commit as the committing transaction sees it, so the
// setting is read on the store's own connections, in its own commits. Sync
// must commit with "on" and NoSync with "off", whatever the database's
// default and the DSN's options say.
func TestDurabilitySetsSynchronousCommit(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	conn := env.conn(t)
	ctx := context.Background()
	// The tables exist once a store opened the schema.
	first, err := openIn(t.TempDir(), env.options())
	require.NoError(t, err)
	require.NoError(t, first.Close())
	execAll(t, conn,
		`CREATE TABLE `+qt("seen")+` (stream text, setting text)`,
		`CREATE FUNCTION `+qt("record_setting")+`() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO `+qt("seen")+` VALUES (NEW.stream, current_setting('synchronous_commit'));
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER record_setting AFTER INSERT ON `+qt("events")+` FOR EACH ROW EXECUTE FUNCTION `+qt("record_setting")+`()`,
	)

	for _, c := range []struct {
		durability eventstore.Durability
		want       string
		other      string // the database default and the DSN's option
	}{
		{eventstore.Sync, "on", "off"},
		{eventstore.NoSync, "off", "on"},
	} {
		_, err := conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s SET synchronous_commit = %s`, pgx.Identifier{env.db}.Sanitize(), c.other))
		require.NoError(t, err)
		o := env.options()
		o.DSN += "&options=" + strings.ReplaceAll(url.PathEscape("-c synchronous_commit="+c.other), "=", "%3D")
		s := openStore(t, o, eventstore.WithDurability(c.durability))
		stream := c.durability.String()
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for range 10 {
					_, err := s.Append(ctx, stream, eventstore.Any, ev("", "T", fmt.Sprint(g)))
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		require.NoError(t, s.Close())
		rows, err := conn.Query(ctx, `SELECT setting, count(*) FROM `+qt("seen")+` WHERE stream = $1 GROUP BY setting`, stream)
		require.NoError(t, err)
		got := map[string]int{}
		var setting string
		var n int
		_, err = pgx.ForEachRow(rows, []any{&setting, &n}, func() error { got[setting] = n; return nil })
		require.NoError(t, err)
		require.Equal(t, map[string]int{c.want: 80}, got, "synchronous_commit of the commits of a %v store", c.durability)
	}
}
