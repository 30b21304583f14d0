package badger

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/fb"
	"github.com/durablelog/eventstore/backend"
	"github.com/stretchr/testify/require"
)

// settledClock moves the clock an hour ahead for the test: every table
// looks settled, so that a table is recorded as soon as it is verified.
func settledClock(t *testing.T) {
	t.Helper()
	old := clock
	clock = func() time.Time { return time.Now().Add(time.Hour) }
	t.Cleanup(func() { clock = old })
}

func openKV(t *testing.T, dir string, cfg Options, logger *slog.Logger) *kv {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, err := Engine{}.Open(dir, backend.Options{Logger: logger, Config: cfg})
	require.NoError(t, err)
	return s.(*kv)
}

func openErr(dir string, cfg Options) error {
	s, err := Engine{}.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler), Config: cfg})
	if err == nil {
		_ = s.Close()
		return fmt.Errorf("Open succeeded")
	}
	return err
}

// fill writes batches of 1000 keys ("k%03d%04d") with 60-byte values.
func fill(t *testing.T, s *kv, first, batches int) {
	t.Helper()
	for i := first; i < first+batches; i++ {
		b := s.NewBatch()
		for j := range 1000 {
			b.Set(fmt.Appendf(nil, "k%03d%04d", i, j), fmt.Appendf(nil, "value %03d %04d %s", i, j, strings.Repeat("v", 45)))
		}
		require.NoError(t, b.Commit(false))
	}
}

// statsAfterOpen opens and closes the store, and returns what Open checked.
func statsAfterOpen(t *testing.T, dir string, cfg Options) openStats {
	t.Helper()
	s := openKV(t, dir, cfg, nil)
	st := s.verifier.stats
	require.NoError(t, s.Close())
	return st
}

func tables(t *testing.T, dir string) []string {
	t.Helper()
	ssts, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	require.NoError(t, err)
	require.NotEmpty(t, ssts)
	return ssts
}

func flip(t *testing.T, path string, off int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	b := make([]byte, 16)
	_, err = f.ReadAt(b, int64(off))
	require.NoError(t, err)
	for i := range b {
		b[i] ^= 0xff
	}
	_, err = f.WriteAt(b, int64(off))
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// A table verified once, in the state its file is still in, is not read in
// full again; VerifyAllOnOpen reads it anyway.
func TestRecordSkipsVerifiedTables(t *testing.T) {
	settledClock(t)
	dir := t.TempDir()
	cfg := Options{MemTableSize: 1 << 20}
	s := openKV(t, dir, cfg, nil)
	fill(t, s, 0, 20)
	require.NoError(t, s.Close()) // flushes, and verifies the new tables
	n := len(tables(t, dir))

	rec, err := readRecord(dir)
	require.NoError(t, err)
	require.Len(t, rec, n)
	require.Equal(t, openStats{tables: n}, statsAfterOpen(t, dir, cfg))
	require.Equal(t, openStats{tables: n}, statsAfterOpen(t, dir, cfg), "badger must not change a table's file")

	all := cfg
	all.VerifyAllOnOpen = true
	st := statsAfterOpen(t, dir, all)
	require.Equal(t, n, st.full)
	require.Positive(t, st.fullBytes)

	// Tables whose times are not yet settled are not recorded: the next
	// Open verifies them again.
	clock = func() time.Time { return time.Now().Add(-time.Hour) }
	dir2 := t.TempDir()
	s = openKV(t, dir2, cfg, nil)
	fill(t, s, 0, 3)
	require.NoError(t, s.Close())
	require.Equal(t, len(tables(t, dir2)), statsAfterOpen(t, dir2, cfg).full)
}

// A verified table changed in place, replaced, or copied with the store is
// verified in full again, and a damaged one fails Open.
func TestChangedTableVerifiedAgain(t *testing.T) {
	settledClock(t)
	dir := t.TempDir()
	cfg := Options{MemTableSize: 1 << 20}
	s := openKV(t, dir, cfg, nil)
	fill(t, s, 0, 20)
	require.NoError(t, s.Close())
	ssts := tables(t, dir)
	require.Equal(t, 0, statsAfterOpen(t, dir, cfg).full)

	victim := ssts[len(ssts)/2]
	orig, err := os.ReadFile(victim)
	require.NoError(t, err)
	flip(t, victim, len(orig)/3)
	err = openErr(dir, cfg)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, filepath.Base(victim))
	require.ErrorContains(t, err, dir)

	// Repaired in place: verified again, alone.
	require.NoError(t, os.WriteFile(victim, orig, 0o644))
	require.Equal(t, openStats{tables: len(ssts), full: 1, fullBytes: int64(len(orig))}, statsAfterOpen(t, dir, cfg))
	require.Equal(t, 0, statsAfterOpen(t, dir, cfg).full)

	// Replaced by a damaged copy (another inode), with the same times.
	fi, err := os.Stat(victim)
	require.NoError(t, err)
	bad := append([]byte(nil), orig...)
	bad[len(bad)/3] ^= 0x01
	require.NoError(t, os.WriteFile(victim+".new", bad, 0o644))
	require.NoError(t, os.Chtimes(victim+".new", fi.ModTime(), fi.ModTime()))
	require.NoError(t, os.Rename(victim+".new", victim))
	require.ErrorIs(t, openErr(dir, cfg), backend.ErrCorrupt)
	require.NoError(t, os.WriteFile(victim, orig, 0o644))

	// A copy of the store (a restored backup) is verified in full.
	cp := t.TempDir()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(cp, e.Name()), data, 0o644))
	}
	require.Equal(t, len(ssts), statsAfterOpen(t, cp, cfg).full)
	require.Equal(t, 0, statsAfterOpen(t, cp, cfg).full)
}

// A record that is damaged, missing, stale or unwritable costs a full
// verification, never a skipped one, and does not stop Open.
func TestRecordDamagedMissingOrStale(t *testing.T) {
	settledClock(t)
	dir := t.TempDir()
	cfg := Options{MemTableSize: 1 << 20}
	s := openKV(t, dir, cfg, nil)
	fill(t, s, 0, 20)
	require.NoError(t, s.Close())
	n := len(tables(t, dir))
	path := filepath.Join(dir, verifiedFile)
	good, err := os.ReadFile(path)
	require.NoError(t, err)

	expectFull := func(t *testing.T, warn string) {
		t.Helper()
		rec := &recorder{level: slog.LevelWarn}
		s := openKV(t, dir, cfg, slog.New(rec))
		require.Equal(t, n, s.verifier.stats.full)
		require.Equal(t, 20_000, countKeys(t, s))
		require.NoError(t, s.Close())
		if warn == "" {
			require.Empty(t, rec.records)
		} else {
			require.NotEmpty(t, rec.records)
			require.Contains(t, rec.records[0].Message, warn)
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, good, got, "the record is rewritten")
	}
	t.Run("damaged", func(t *testing.T) {
		bad := append([]byte(nil), good...)
		bad[len(bad)/2] ^= 0x04
		require.NoError(t, os.WriteFile(path, bad, 0o644))
		expectFull(t, "checksum mismatch")
	})
	t.Run("cut", func(t *testing.T) {
		require.NoError(t, os.WriteFile(path, good[:len(good)-5], 0o644))
		expectFull(t, "the record of verified tables is damaged")
	})
	t.Run("missing", func(t *testing.T) {
		require.NoError(t, os.Remove(path))
		expectFull(t, "")
	})
	t.Run("stale", func(t *testing.T) {
		rec, err := readRecord(dir)
		require.NoError(t, err)
		for id, fp := range rec {
			fp.ctime-- // the state of an earlier file with the same name
			rec[id] = fp
		}
		rec[999_999] = fingerprint{ino: 1} // a table no longer listed
		require.NoError(t, writeRecord(dir, rec))
		expectFull(t, "")
	})
	t.Run("unwritable", func(t *testing.T) {
		require.NoError(t, os.Remove(path))
		require.NoError(t, os.Mkdir(path, 0o700))
		for range 2 {
			rec := &recorder{level: slog.LevelWarn}
			s := openKV(t, dir, cfg, slog.New(rec))
			require.Equal(t, n, s.verifier.stats.full)
			require.NoError(t, s.Close())
			require.NotEmpty(t, rec.records)
		}
		require.NoError(t, os.Remove(path))
	})
}

func countKeys(t *testing.T, s backend.KV) int {
	t.Helper()
	it, err := s.NewIterator(backend.IterOptions{})
	require.NoError(t, err)
	n := 0
	for it.Next() {
		n++
	}
	require.NoError(t, it.Close())
	return n
}

// blockTrailers returns, for each block of the table in data, the offset of
// its entry count (the block ends with entry count, checksum, checksum
// length), read from the table's index.
func blockTrailers(t *testing.T, data []byte) []int {
	t.Helper()
	end := len(data) - 4
	end -= int(binary.BigEndian.Uint32(data[end:])) // the index checksum
	idxLen := int(binary.BigEndian.Uint32(data[end-4 : end]))
	idx := fb.GetRootAsTableIndex(data[end-4-idxLen:end-4], 0)
	var offs []int
	var bo fb.BlockOffset
	for i := range idx.OffsetsLength() {
		require.True(t, idx.Offsets(&bo, i))
		blockEnd := int(bo.Offset() + bo.Len())
		chkLen := int(binary.BigEndian.Uint32(data[blockEnd-4:]))
		offs = append(offs, blockEnd-4-chkLen-4)
	}
	return offs
}

// Damage that leaves a table file's times as they were (below the file
// system) is not read at Open unless it is in what badger reads when it
// opens a table. A block whose damage makes badger panic then fails the
// reads that reach it with ErrCorrupt; VerifyAllOnOpen finds it at Open.
func TestDamageBelowFileSystem(t *testing.T) {
	settledClock(t)
	setup := func(t *testing.T) (dir, sst string, data []byte, cfg Options) {
		dir = t.TempDir()
		cfg = Options{Compression: CompressionNone} // one table, no compaction
		s := openKV(t, dir, cfg, nil)
		fill(t, s, 0, 20)
		require.NoError(t, s.Close())
		ssts := tables(t, dir)
		require.Len(t, ssts, 1)
		data, err := os.ReadFile(ssts[0])
		require.NoError(t, err)
		return dir, ssts[0], data, cfg
	}
	// damage sets the entry count at off to an absurd value and records the
	// file's new state as verified, as if its times had not changed.
	damage := func(t *testing.T, dir, sst string, off int) {
		t.Helper()
		f, err := os.OpenFile(sst, os.O_RDWR, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte{0, 0xff, 0xff, 0xff}, int64(off))
		require.NoError(t, err)
		require.NoError(t, f.Close())
		rec, err := readRecord(dir)
		require.NoError(t, err)
		id := tableID(t, sst)
		require.Contains(t, rec, id)
		rec[id], _, err = statTable(sst)
		require.NoError(t, err)
		require.NoError(t, writeRecord(dir, rec))
	}

	t.Run("middleBlock", func(t *testing.T) {
		dir, sst, data, cfg := setup(t)
		trailers := blockTrailers(t, data)
		require.Greater(t, len(trailers), 4)
		damage(t, dir, sst, trailers[len(trailers)/2])

		s := openKV(t, dir, cfg, nil)
		require.Equal(t, 0, s.verifier.stats.full)
		it, err := s.NewIterator(backend.IterOptions{})
		require.NoError(t, err)
		for it.Next() {
		}
		require.ErrorIs(t, it.Err(), backend.ErrCorrupt)
		require.ErrorContains(t, it.Err(), "panicked")
		require.NoError(t, it.Close())
		var getErr error
		for i := 0; i < 20 && getErr == nil; i++ {
			for j := 0; j < 1000 && getErr == nil; j++ {
				_, _, getErr = s.Get(fmt.Appendf(nil, "k%03d%04d", i, j))
			}
		}
		require.ErrorIs(t, getErr, backend.ErrCorrupt)
		require.ErrorContains(t, getErr, dir)
		require.NoError(t, s.Close())

		all := cfg
		all.VerifyAllOnOpen = true
		err = openErr(dir, all)
		require.ErrorIs(t, err, backend.ErrCorrupt)
		require.ErrorContains(t, err, filepath.Base(sst))
	})
	t.Run("lastBlock", func(t *testing.T) {
		// Badger's Open reads it, in a goroutine that would crash the
		// process: the check at Open reads it first.
		dir, sst, data, cfg := setup(t)
		trailers := blockTrailers(t, data)
		damage(t, dir, sst, trailers[len(trailers)-1])
		err := openErr(dir, cfg)
		require.ErrorIs(t, err, backend.ErrCorrupt)
		require.ErrorContains(t, err, filepath.Base(sst))
	})
	t.Run("index", func(t *testing.T) {
		dir, sst, data, cfg := setup(t)
		damage(t, dir, sst, len(data)-200)
		err := openErr(dir, cfg)
		require.ErrorIs(t, err, backend.ErrCorrupt)
		require.ErrorContains(t, err, filepath.Base(sst))
	})
}

func tableID(t *testing.T, path string) uint64 {
	t.Helper()
	var id uint64
	_, err := fmt.Sscanf(filepath.Base(path), "%06d.sst", &id)
	require.NoError(t, err)
	return id
}

// Tables written while the store is open are verified by the rounds; a
// round that finds one damaged makes every later call fail with
// ErrCorrupt, Close included, and the next Open fails too.
func TestTablesVerifiedWhileOpen(t *testing.T) {
	settledClock(t)
	dir := t.TempDir()
	cfg := Options{MemTableSize: 1 << 20, Compression: CompressionNone}
	s := openKV(t, dir, cfg, nil)
	fill(t, s, 0, 30)
	require.NoError(t, s.Compact()) // flushes the memtables to tables
	v := s.verifier
	live := v.live(s.db)
	require.NotEmpty(t, live)
	require.NoError(t, v.round(live, nil))
	rec, err := readRecord(dir)
	require.NoError(t, err)
	require.ElementsMatch(t, slices.Collect(maps.Keys(live)), slices.Collect(maps.Keys(rec)))

	// Nothing changed: nothing is read again.
	require.NoError(t, v.round(live, nil))

	var victim uint64
	for id := range live {
		victim = id
		break
	}
	path := filepath.Join(dir, fmt.Sprintf("%06d.sst", victim))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	flip(t, path, blockTrailers(t, data)[0]-64) // inside the first block's entries
	err = v.round(v.live(s.db), nil)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, filepath.Base(path))
	v.fail(err)

	_, _, err = s.Get([]byte("k0000000"))
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, "the store is damaged")
	_, err = s.NewIterator(backend.IterOptions{})
	require.ErrorIs(t, err, backend.ErrCorrupt)
	b := s.NewBatch()
	b.Set([]byte("x"), []byte("y"))
	require.ErrorIs(t, b.Commit(true), backend.ErrCorrupt)
	require.ErrorIs(t, s.Sync(), backend.ErrCorrupt)
	require.ErrorIs(t, s.Compact(), backend.ErrCorrupt)
	err = s.Close()
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, filepath.Base(path))

	err = openErr(dir, cfg)
	require.ErrorIs(t, err, backend.ErrCorrupt)
	require.ErrorContains(t, err, filepath.Base(path))
}

// The rounds run in the background every verifyInterval, until Close.
func TestVerifierRounds(t *testing.T) {
	settledClock(t)
	old := verifyInterval
	verifyInterval = time.Millisecond
	t.Cleanup(func() { verifyInterval = old })

	dir := t.TempDir()
	o, err := Options{MemTableSize: 1 << 20}.resolve()
	require.NoError(t, err)
	bo := o.badgerOptions(dir, slog.New(slog.DiscardHandler))
	v := newVerifier(dir, bo, slog.New(slog.DiscardHandler))
	require.NoError(t, v.atOpen(false))
	db, err := bdg.Open(bo)
	require.NoError(t, err)
	s := &kv{db: db, dir: dir, opts: o, sync: syncer{dir: dir}, verifier: v}
	rounds := make(chan error)
	v.roundDone = rounds
	v.start(db)
	fill(t, s, 0, 30)
	require.NoError(t, s.Compact())
	for recorded := false; !recorded; {
		require.NoError(t, <-rounds)
		live := v.live(db)
		v.mu.Lock()
		recorded = len(v.rec) == len(live)
		for id := range live {
			_, ok := v.rec[id]
			recorded = recorded && ok
		}
		v.mu.Unlock()
	}
	require.NoError(t, s.Close())
	rec, err := readRecord(dir)
	require.NoError(t, err)
	require.Len(t, rec, len(tables(t, dir)))
}
