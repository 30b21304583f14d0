package badger

import (
	"errors"
	"runtime/debug"

	bdg "github.com/dgraph-io/badger/v4"
)

// badgerModule is the module path of the badger release this engine runs.
const badgerModule = "github.com/dgraph-io/badger/v4"

// testedVersion is the badger release this package was written and tested
// against (go.mod); EngineVersion reports it when the binary carries no
// module information, as test binaries do not.
const testedVersion = "v4.9.6"

// gcDiscardRatio is the share of a value-log file that must be garbage for
// value-log GC to rewrite it; badger recommends 0.5.
const gcDiscardRatio = 0.5

// compactSentinel is the key Compact writes, and drops, under its own
// one-byte prefix outside the user key space to make badger flush and
// compact everything (see Compact).
var compactSentinel = []byte{compactPrefix, 's'}

const compactPrefix = 'c' // neither keyPrefix nor the '!' of badger's keys

// Compact implements backend.Compacter: it compacts the whole key space,
// dropping overwritten and deleted versions, and reclaims value-log space,
// and returns when that is done. Badger has no single call for this:
//
//  1. DB.Flatten only merges levels: tables that are all in level 0 and the
//     memtables are left as they are (db.go:1647-1710). DB.DropPrefix, for a
//     prefix that has data, flushes every memtable to level 0 and compacts
//     all of level 0 into the base level (db.go:1844-1920, levels.go:255-284).
//     So Compact writes a sentinel key under a prefix of its own and drops
//     that prefix. DropPrefix blocks badger's writes while it runs (a write
//     then fails with ErrBlockedWrites), so Commit waits meanwhile.
//  2. DB.Flatten then merges all levels into one.
//  3. Value-log GC (DB.RunValueLogGC) rewrites the value-log files that are
//     at least half garbage, until it finds none (ErrNoRewrite) or after one
//     round per file present.
//
// Value-log GC moves the live values of a file to the newest value-log file
// and the write-ahead log and then deletes the file, without syncing the
// moved values first (badger value.go:344-377). Compact syncs the store after
// each GC round, which leaves a window of a few milliseconds in which a power
// cut may lose moved values; it only concerns values of ValueThreshold bytes
// or more (1 MiB by default).
//
// Reads may run during Compact; commits wait during step 1. Only one Compact
// runs at a time.
func (s *kv) Compact() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check("Compact"); err != nil {
		return err
	}
	s.compactMu.Lock()
	defer s.compactMu.Unlock()

	if err := s.db.Update(func(txn *bdg.Txn) error { return txn.Set(compactSentinel, nil) }); err != nil {
		return wrapErr(s.dir, "write the compaction sentinel", err)
	}
	s.gate.Lock()
	err := s.db.DropPrefix(compactSentinel[:1])
	s.gate.Unlock()
	if err != nil {
		return wrapErr(s.dir, "flush the memtables and compact level 0", err)
	}
	if err := s.db.Flatten(2); err != nil {
		return wrapErr(s.dir, "compact the LSM tree", err)
	}
	files, err := listFiles(s.dir)
	if err != nil {
		return err
	}
	for range len(files.vlogs) {
		err := s.db.RunValueLogGC(gcDiscardRatio)
		if errors.Is(err, bdg.ErrNoRewrite) {
			return nil
		}
		if err != nil {
			return wrapErr(s.dir, "garbage-collect the value log", err)
		}
		s.sync.vlogDirty.Store(true)
		if err := s.sync.sync(s.db); err != nil {
			return err
		}
	}
	return nil
}

// EngineVersion implements backend.Namer: "badger" and the version of the
// badger module linked into the binary, for example "badger v4.9.6".
func (s *kv) EngineVersion() string {
	return "badger " + linkedVersion(debug.ReadBuildInfo)
}

// linkedVersion returns the version of the badger module recorded in the
// binary's build information, or testedVersion without it.
func linkedVersion(read func() (*debug.BuildInfo, bool)) string {
	if bi, ok := read(); ok {
		for _, d := range bi.Deps {
			if d.Path != badgerModule {
				continue
			}
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			if d.Version != "" && d.Version != "(devel)" {
				return d.Version
			}
		}
	}
	return testedVersion
}
