package sqlite

import (
	"database/sql"
	"errors"

	"github.com/durablelog/eventstore/backend"
)

// iterQuery returns the SELECT of an iterator. The bounds it has are its
// parameters, in order: the lower bound, then the upper bound. SQLite
// compares BLOBs with memcmp and then by length, which is bytes.Compare, and
// walks the primary key's b-tree in either direction.
func iterQuery(lower, upper, reverse bool) string {
	q := "SELECT key, value FROM kv"
	switch {
	case lower && upper:
		q += " WHERE key >= ? AND key < ?"
	case lower:
		q += " WHERE key >= ?"
	case upper:
		q += " WHERE key < ?"
	}
	if reverse {
		return q + " ORDER BY key DESC"
	}
	return q + " ORDER BY key"
}

// iterVariant numbers the eight forms of iterQuery.
func iterVariant(lower, upper, reverse bool) int {
	v := 0
	if lower {
		v |= 1
	}
	if upper {
		v |= 2
	}
	if reverse {
		v |= 4
	}
	return v
}

// iterArgs returns the query parameters for opts. database/sql binds them
// before QueryContext returns (the driver copies them), so the caller may
// reuse its slices at once.
func iterArgs(opts backend.IterOptions) []any {
	args := make([]any, 0, 2)
	if opts.Lower != nil {
		args = append(args, opts.Lower)
	}
	if opts.Upper != nil {
		args = append(args, opts.Upper)
	}
	return args
}

// iterator is a backend.Iterator over the rows of one SELECT. The statement
// runs in its own read transaction on a read connection, which it holds
// until it is closed or exhausted; in WAL mode that neither blocks nor
// waits for the writer.
type iterator struct {
	s          *kv
	rows       *sql.Rows // nil once closed
	key, value sql.RawBytes
	started    bool // Next was called
	done       bool // exhausted, failed or closed
	err        error
	told       bool // err was returned by Err
}

// first reads the first row, so that SQLite's read transaction, and with it
// the iterator's view, starts before NewIterator returns.
func (i *iterator) first() { i.advance() }

// Next moves to the next key in the iterator's direction. It returns false
// at the end of the range or on an error, which Err then returns.
func (i *iterator) Next() bool {
	if !i.started {
		i.started = true
		return !i.done // NewIterator read the first row
	}
	if i.done {
		return false
	}
	return i.advance()
}

// advance reads the next row into key and value.
func (i *iterator) advance() bool {
	if !i.rows.Next() {
		i.stop(i.rows.Err())
		return false
	}
	if err := i.rows.Scan(&i.key, &i.value); err != nil {
		i.stop(err)
		return false
	}
	return true
}

// stop ends the iteration with err, which may be nil.
func (i *iterator) stop(err error) {
	i.done = true
	i.key, i.value = nil, nil
	if err != nil && i.err == nil {
		i.err = wrap("iterate", i.s.file, err)
	}
}

// Key returns the current key, valid until the next call to Next or Close;
// nil when the iterator is not on a key.
func (i *iterator) Key() []byte {
	if !i.started {
		return nil
	}
	return i.key
}

// Value returns the current value, valid until the next call to Next or
// Close; nil when the iterator is not on a key.
func (i *iterator) Value() []byte {
	if !i.started {
		return nil
	}
	return i.value
}

// Err returns the error that stopped the iteration, if any. Damage that
// SQLite detects (SQLITE_CORRUPT, SQLITE_NOTADB) wraps backend.ErrCorrupt
// and names the database file.
func (i *iterator) Err() error {
	if i.err != nil {
		i.told = true
	}
	return i.err
}

// Close releases the iterator and its read connection. It returns the
// iteration error unless Err already returned it, and any error of closing
// the rows. A second Close returns an error.
func (i *iterator) Close() error {
	if i.rows == nil {
		return errIterClosed
	}
	cerr := i.rows.Close()
	i.rows = nil
	i.started, i.done = true, true
	i.key, i.value = nil, nil
	i.s.iters.Add(-1)
	var err error
	if !i.told {
		err = i.err
	}
	if cerr != nil {
		err = errors.Join(err, wrap("close iterator", i.s.file, cerr))
	}
	return err
}
