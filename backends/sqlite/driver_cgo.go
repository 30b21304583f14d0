//go:build cgo

package sqlite

import (
	"errors"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// resultCode returns SQLite's extended result code carried by err, and
// whether err carries one.
func resultCode(err error) (int, bool) {
	var se sqlite3.Error
	if errors.As(err, &se) {
		if se.ExtendedCode != 0 {
			return int(se.ExtendedCode), true
		}
		return int(se.Code), true
	}
	var en sqlite3.ErrNo
	if errors.As(err, &en) {
		return int(en), true
	}
	return 0, false
}
