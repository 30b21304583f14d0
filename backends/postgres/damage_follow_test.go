package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

// TestDamageBeforeOwnAppend: another process's record that this process
// has not published yet is damaged. An append of this process commits after
// it, but cannot be published in order: Append must say so, with an error
// that wraps ErrCorrupt and names the offset, well before its context ends,
// instead of waiting for a read that can never succeed.
func TestDamageBeforeOwnAppend(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	proxy := startProxy(t, env)
	o := env.options()
	o.DSN = proxy.dsn(env)
	a := openStore(t, o)
	b := openStore(t, env.options())
	_, err := a.Append(ctx, "a", eventstore.NoStream, ev("", "T", "before"))
	require.NoError(t, err)

	proxy.cut()
	res, err := b.Append(ctx, "b", eventstore.NoStream, ev("", "T", "damaged"))
	require.NoError(t, err)
	_, err = env.conn(t).Exec(ctx, `UPDATE `+qt("events")+` SET record = set_byte(record, 10, get_byte(record, 10) # 1) WHERE position = $1`, int64(res.First))
	require.NoError(t, err)
	proxy.restore()

	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	var aerr error
	waitFor(t, time.Minute, "an append of A that reaches the server", func() bool {
		_, aerr = a.Append(actx, "a", eventstore.Any, ev("", "T", "after"))
		// The first appends may find the pool's connections cut.
		return aerr == nil || !strings.Contains(aerr.Error(), "nothing was written")
	})
	t.Logf("after %v: %v", time.Since(start), aerr)
	require.Less(t, time.Since(start), 20*time.Second, "the append waited for a damaged record")
	requireCorruptAt(t, aerr, res.First, "the append after a damaged record")
}
