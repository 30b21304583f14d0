//go:build !cgo

package sqlite

// Without cgo the driver is a stub whose Open fails with "Binary was compiled
// with 'CGO_ENABLED=0', go-sqlite3 requires cgo to work", so Engine.Open
// fails with that error: the package builds, and the engine needs a build
// with CGO_ENABLED=1 and a C compiler.

// resultCode returns SQLite's result code carried by err: never, without
// cgo.
func resultCode(error) (int, bool) { return 0, false }
