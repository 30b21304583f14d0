package pebble

import (
	"errors"

	cpebble "github.com/cockroachdb/pebble/v2"
)

// iterator is a backend.Iterator over a pebble.Iterator. Forward iterators
// move with First and Next, reverse ones with Last and Prev.
type iterator struct {
	s       *kv
	it      *cpebble.Iterator // nil once closed
	reverse bool
	started bool // positioned once
	done    bool // exhausted, failed or closed
	value   []byte
	err     error
	told    bool // err was returned by Err
}

// errIterClosed is the error of a second Close of an iterator.
var errIterClosed = errors.New("pebble: Close of an iterator that was already closed")

// Next moves to the next key in the iterator's direction. It returns false
// at the end of the range or on an error, which Err then returns.
func (i *iterator) Next() bool {
	if i.done {
		return false
	}
	var ok bool
	switch {
	case !i.started && i.reverse:
		ok = i.it.Last()
	case !i.started:
		ok = i.it.First()
	case i.reverse:
		ok = i.it.Prev()
	default:
		ok = i.it.Next()
	}
	i.started = true
	if !ok {
		i.stop(i.it.Error())
		return false
	}
	v, err := i.it.ValueAndErr()
	if err != nil {
		i.stop(err)
		return false
	}
	i.value = v
	return true
}

// stop ends the iteration with err, which may be nil.
func (i *iterator) stop(err error) {
	i.done = true
	i.value = nil
	if err != nil && i.err == nil {
		i.err = i.s.wrap("iterate", err)
	}
}

// Key returns the current key, valid until the next call to Next or Close;
// nil when the iterator is not on a key.
func (i *iterator) Key() []byte {
	if i.done || !i.started {
		return nil
	}
	return i.it.Key()
}

// Value returns the current value, valid until the next call to Next or
// Close; nil when the iterator is not on a key.
func (i *iterator) Value() []byte { return i.value }

// Err returns the error that stopped the iteration, if any. A checksum
// failure wraps backend.ErrCorrupt and names the store's directory.
func (i *iterator) Err() error {
	if i.err != nil {
		i.told = true
	}
	return i.err
}

// Close releases the iterator. It returns the iteration error unless Err
// already returned it, and any error Pebble reports while closing. A second
// Close returns an error.
func (i *iterator) Close() error {
	if i.it == nil {
		return errIterClosed
	}
	cerr := i.it.Close()
	i.it = nil
	i.s.iters.Add(-1)
	if i.err != nil {
		// Pebble's Close repeats the error that stopped the iteration.
		i.done, i.value = true, nil
		if i.told {
			return nil
		}
		i.told = true
		return i.err
	}
	i.stop(cerr)
	return i.err
}
