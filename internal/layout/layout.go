// Package layout names the files of a store's directory, in one place for
// the root package, the CLI and the tests, and reads and writes the STORE
// file:
//
//	dir/LOCK        the owner lock (an flock; empty)
//	dir/STORE       what the directory holds: format, engine, generation (JSON)
//	dir/HEADMARK    the head mark (package internal/headmark)
//	dir/engine/     the engine's files
//	dir/snapshots/  state-machine snapshots (package internal/snapfile)
package layout

import (
	"path/filepath"
	"strings"
)

// Names in a store's directory.
const (
	LockFile     = "LOCK"
	StoreFile    = "STORE"
	HeadMarkFile = "HEADMARK"
	EngineDir    = "engine"
	SnapshotDir  = "snapshots"
)

// TempPrefixes start the names of the temporary files written before they
// are renamed to STORE or HEADMARK (fsutil.WriteFileAtomic): a crash between
// the two leaves one behind.
var TempPrefixes = []string{"." + StoreFile + ".tmp", "." + HeadMarkFile + ".tmp"}

// IsTemp reports whether name is such a leftover temporary file.
func IsTemp(name string) bool {
	for _, p := range TempPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Engine returns the engine directory of the store in dir.
func Engine(dir string) string { return filepath.Join(dir, EngineDir) }

// Snapshots returns the snapshot directory of the store in dir.
func Snapshots(dir string) string { return filepath.Join(dir, SnapshotDir) }

// Ours reports whether name is an entry that a store may hold in its
// directory before its STORE file exists: what a crash in a first Open, or
// the loss of STORE, leaves.
func Ours(name string) bool {
	switch name {
	case LockFile, EngineDir, SnapshotDir, HeadMarkFile:
		return true
	}
	return false
}
