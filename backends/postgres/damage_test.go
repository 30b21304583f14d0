package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/durablelog/eventstore"
	"github.com/stretchr/testify/require"
)

// requireCorruptAt checks that err wraps ErrCorrupt and carries a
// *CorruptionError that names offset off.
func requireCorruptAt(t *testing.T, err error, off eventstore.Offset, what string) {
	t.Helper()
	require.ErrorIs(t, err, eventstore.ErrCorrupt, what)
	var ce *eventstore.CorruptionError
	require.True(t, errors.As(err, &ce), "%s: %v is not a *CorruptionError", what, err)
	require.Equal(t, off, ce.Offset, "%s: %v", what, err)
	require.Contains(t, err.Error(), fmt.Sprint(off), what)
}

// TestDamageDetected damages the events table with SQL, one way at a time,
// and repairs it after each: a flipped bit anywhere in a record, a missing
// row in the middle and at the head, two rows' records swapped, and a row
// whose stream, version or id column disagrees with its record. Reads and
// Verify must fail with ErrCorrupt and a *CorruptionError that names the
// offset; after the repair Verify passes again.
func TestDamageDetected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	s := openStore(t, env.options())
	conn := env.conn(t)
	ctx := context.Background()
	for i := range 12 {
		_, err := s.Append(ctx, fmt.Sprintf("s%d", i%3), eventstore.Any, ev(fmt.Sprintf("id-%d", i), "T", fmt.Sprintf("event %d", i)))
		require.NoError(t, err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := conn.Exec(ctx, q, args...)
		require.NoError(t, err, q)
	}
	verify := func(off eventstore.Offset, what string) {
		t.Helper()
		_, err := s.Verify(ctx)
		requireCorruptAt(t, err, off, what+": Verify")
	}
	readLog := func(off eventstore.Offset, what string) {
		t.Helper()
		recs, err := s.ReadLog(ctx, 0, 0)
		requireCorruptAt(t, err, off, what+": ReadLog")
		require.Nil(t, recs, what)
	}
	readStream := func(stream string, off eventstore.Offset, what string) {
		t.Helper()
		_, err := s.ReadStream(ctx, stream, 0, 0)
		requireCorruptAt(t, err, off, what+": ReadStream")
	}
	healthy := func(what string) {
		t.Helper()
		_, err := s.Verify(ctx)
		require.NoError(t, err, "after the repair of %s", what)
	}
	healthy("nothing")

	t.Run("FlippedBit", func(t *testing.T) {
		var orig []byte
		require.NoError(t, conn.QueryRow(ctx, `SELECT record FROM `+qt("events")+` WHERE position = 6`).Scan(&orig))
		for k := range orig {
			bit := 1 << (k % 8)
			what := fmt.Sprintf("byte %d of %d xor %#x", k, len(orig), bit)
			exec(`UPDATE `+qt("events")+` SET record = set_byte(record, $1, get_byte(record, $1) # $2) WHERE position = 6`, k, bit)
			readLog(6, what)
			verify(6, what)
			if k%8 == 0 {
				readStream("s2", 6, what)
			}
			exec(`UPDATE `+qt("events")+` SET record = $1 WHERE position = 6`, orig)
		}
		healthy("the flipped bits")
	})

	for _, off := range []eventstore.Offset{6, 12} {
		t.Run(fmt.Sprintf("MissingRow%d", off), func(t *testing.T) {
			exec(`CREATE TABLE `+qt("saved")+` AS SELECT * FROM `+qt("events")+` WHERE position = $1`, int64(off))
			exec(`DELETE FROM `+qt("events")+` WHERE position = $1`, int64(off))
			readLog(off, "missing row")
			verify(off, "missing row")
			exec(`INSERT INTO ` + qt("events") + ` SELECT * FROM ` + qt("saved"))
			exec(`DROP TABLE ` + qt("saved"))
			healthy("the missing row")
		})
	}

	t.Run("SwappedRecords", func(t *testing.T) {
		swap := `UPDATE ` + qt("events") + ` e SET record = o.record FROM ` + qt("events") + ` o
			WHERE (e.position, o.position) IN ((3, 4), (4, 3))`
		exec(swap)
		readLog(3, "swapped records")
		verify(3, "swapped records")
		exec(swap)
		healthy("the swapped records")
	})

	for _, c := range []struct{ column, damage, repair string }{
		{"stream", `stream = 'elsewhere'`, `stream = 's1'`},
		{"version", `version = 99`, `version = 3`},
		{"event_id", `event_id = 'id-other'`, `event_id = 'id-7'`},
		{"event_id", `event_id = NULL`, `event_id = 'id-7'`},
	} {
		t.Run("Column-"+c.column, func(t *testing.T) {
			// Offset 8 is the third event of stream s1, with id id-7.
			exec(`UPDATE ` + qt("events") + ` SET ` + c.damage + ` WHERE position = 8`)
			verify(8, c.damage)
			if c.column != "event_id" {
				// The stream's reader finds version 3 missing; where it
				// went, only Verify can tell.
				_, err := s.ReadStream(ctx, "s1", 0, 0)
				require.ErrorIs(t, err, eventstore.ErrCorrupt, c.damage)
			}
			exec(`UPDATE ` + qt("events") + ` SET ` + c.repair + ` WHERE position = 8`)
			healthy(c.damage)
		})
	}
}
