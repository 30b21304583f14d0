package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"sync"

	cpebble "github.com/cockroachdb/pebble/v2"
)

// Checkpoint writes a consistent, openable copy of the store into dir, which
// must not exist yet, while the store stays open. It implements
// backend.Checkpointer with pebble.DB.Checkpoint and
// pebble.WithFlushedWAL, so the copy contains every batch committed before
// the call, also those committed without sync. Pebble hard-links sstables
// where it can and copies the rest; dir lives in Options.FS.
func (s *kv) Checkpoint(dir string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("checkpoint")
	}
	err := s.db.Checkpoint(dir, cpebble.WithFlushedWAL())
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pebble: checkpoint of %s into %s: %w; choose a directory that does not exist yet", s.dir, dir, err)
	}
	if err != nil {
		return s.wrap("checkpoint into "+dir, err)
	}
	return nil
}

// Compact compacts the whole key space and returns when it is done. It
// implements backend.Compacter: it flushes the memtables, then compacts the
// range from the smallest to the largest key of the store's sstables
// (deletion markers included) with pebble.DB.Compact, which rewrites them
// into the bottom level and drops deleted and overwritten values.
func (s *kv) Compact() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("compact")
	}
	if err := s.db.Flush(); err != nil {
		return s.wrap("compact (flush)", err)
	}
	levels, err := s.db.SSTables()
	if err != nil {
		return s.wrap("compact (list sstables)", err)
	}
	var lo, hi []byte
	for _, level := range levels {
		for _, t := range level {
			if lo == nil || bytes.Compare(t.Smallest.UserKey, lo) < 0 {
				lo = t.Smallest.UserKey
			}
			if hi == nil || bytes.Compare(t.Largest.UserKey, hi) > 0 {
				hi = t.Largest.UserKey
			}
		}
	}
	if lo == nil {
		return nil // nothing on disk
	}
	// Pebble's end bound is inclusive of keys equal to it; one past hi
	// keeps the range non-empty when lo == hi.
	end := append(bytes.Clone(hi), 0)
	if err := s.db.Compact(context.Background(), bytes.Clone(lo), end, true); err != nil {
		return s.wrap("compact", err)
	}
	return nil
}

// EngineVersion reports the Pebble module version and the store's format
// major version, for example "pebble v2.1.7 (format major version 25)". It
// implements backend.Namer.
func (s *kv) EngineVersion() string { return s.version }

// pebbleModule is the module path of Pebble.
const pebbleModule = "github.com/cockroachdb/pebble/v2"

// fallbackPebbleVersion is the Pebble version in go.mod when this package
// was written; used only when the binary carries no build information.
const fallbackPebbleVersion = "v2.1.7"

// pebbleVersion returns the version of the Pebble module linked into the
// binary, from its build information.
var pebbleVersion = sync.OnceValue(func() string {
	return moduleVersion(debug.ReadBuildInfo())
})

// moduleVersion finds Pebble's version in build information.
func moduleVersion(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return fallbackPebbleVersion
	}
	for _, m := range bi.Deps {
		if m.Path != pebbleModule {
			continue
		}
		if m.Replace != nil && m.Replace.Version != "" {
			return m.Replace.Version
		}
		if m.Version != "" && m.Version != "(devel)" {
			return m.Version
		}
	}
	return fallbackPebbleVersion
}

// engineVersion formats the EngineVersion of a store.
func engineVersion(fmv cpebble.FormatMajorVersion) string {
	return fmt.Sprintf("pebble %s (format major version %d)", pebbleVersion(), uint64(fmv))
}
