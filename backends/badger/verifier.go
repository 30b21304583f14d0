package badger

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/durablelog/eventstore/backend"
)

// verifyInterval is how often an open store verifies the tables badger
// wrote since the last time.
var verifyInterval = 30 * time.Second

// clock tells the time against which fingerprints are settled; tests move
// it.
var clock = time.Now

// verifier checks a store's tables and keeps the record of those verified
// (verified.go): at Open, before badger opens the tables (atOpen); while the
// store is open, every verifyInterval, for the tables badger wrote since
// (start); and at Close, for those still unverified (atClose).
type verifier struct {
	dir         string
	bo          bdg.Options
	blockSize   int
	compression options.CompressionType // of the tables badger writes
	logger      *slog.Logger

	// Set by atOpen, before any round.
	listed map[uint64]bdg.TableManifest // the tables the MANIFEST listed at Open
	stats  openStats

	mu    sync.Mutex // held by a round; guards rec and dirty
	rec   record     // the tables verified, pruned to those listed
	dirty bool       // rec differs from the file

	damage     atomic.Pointer[error] // the first damage found after Open
	stop, done chan struct{}
	roundDone  chan<- error // if not nil, receives the outcome of each round start runs (tests)
}

// openStats describes the checks made at Open.
type openStats struct {
	tables    int   // tables listed in the MANIFEST
	full      int   // tables verified in full
	fullBytes int64 // their size
}

func newVerifier(dir string, bo bdg.Options, logger *slog.Logger) *verifier {
	return &verifier{dir: dir, bo: bo, blockSize: bo.BlockSize, compression: bo.Compression, logger: logger}
}

// atOpen checks every table the MANIFEST lists, before badger opens them:
// each one that the record does not hold with its current fingerprint in
// full (every block), the others as badger reads them on open. With all set
// the record is ignored and every table is verified in full. It returns an
// error wrapping backend.ErrCorrupt that names the first damaged table.
func (v *verifier) atOpen(all bool) error {
	start, now := time.Now(), clock()
	listed, err := readManifest(v.dir, v.bo)
	if err != nil {
		return err
	}
	if err := removeRecordTemps(v.dir); err != nil {
		return err
	}
	rec := record{}
	if !all {
		if rec, err = readRecord(v.dir); err != nil {
			v.logger.Warn("badger: verifying every table: "+err.Error(), "file", verifiedFile)
			rec, v.dirty = record{}, true
		}
	}

	ids := slices.Sorted(maps.Keys(listed))
	checks := make([]tableCheck, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	// A few tables at a time: a full check holds one table's decompressed
	// blocks in memory until it returns.
	for range min(runtime.GOMAXPROCS(0), 4) {
		wg.Go(func() {
			for i := range next {
				checks[i] = v.checkListed(ids[i], listed[ids[i]], rec, now)
			}
		})
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()

	v.rec, v.listed = record{}, listed
	v.stats = openStats{tables: len(ids)}
	for i, c := range checks {
		if c.err != nil {
			return c.err
		}
		if c.full {
			v.stats.full++
			v.stats.fullBytes += c.fp.size
		}
		if c.record {
			v.rec[ids[i]] = c.fp
		}
	}
	v.dirty = v.dirty || !maps.Equal(v.rec, rec)
	v.logger.Debug(fmt.Sprintf("badger: checked %d tables in %s: %d verified in full (%d bytes), %d verified before",
		v.stats.tables, time.Since(start).Round(time.Microsecond), v.stats.full, v.stats.fullBytes, v.stats.tables-v.stats.full))
	return nil
}

// save writes the record if it changed. A failure only costs verifications
// at the next Open: it is logged.
func (v *verifier) save() {
	if !v.dirty {
		return
	}
	if err := writeRecord(v.dir, v.rec); err != nil {
		v.logger.Warn(err.Error())
		return
	}
	v.dirty = false
}

// round verifies in full each of tables that the record does not hold with
// its current fingerprint and that is settled, records it, prunes the record
// to tables and saves it. It returns the first damage found. A closed stop
// ends it early. Tables that vanish meanwhile were deleted by a compaction.
func (v *verifier) round(tables map[uint64]bdg.TableManifest, stop <-chan struct{}) error {
	now := clock()
	v.mu.Lock()
	defer v.mu.Unlock()
	var damage error
	for _, id := range slices.Sorted(maps.Keys(tables)) {
		select {
		case <-stop:
			v.save()
			return damage
		default:
		}
		path := table.NewFilename(id, v.dir)
		fp, usable, err := statTable(path)
		if err != nil || !usable {
			continue
		}
		if old, ok := v.rec[id]; ok {
			if old == fp {
				continue
			}
			delete(v.rec, id)
			v.dirty = true
		}
		if !fp.settled(now) {
			continue
		}
		switch err := checkTable(path, tables[id], v.blockSize, true); {
		case err == nil:
			v.rec[id], v.dirty = fp, true
		case errors.Is(err, backend.ErrCorrupt):
			damage = cmp.Or(damage, err)
		case !isMissing(path):
			v.logger.Warn(err.Error())
		}
	}
	for id := range v.rec {
		if _, ok := tables[id]; !ok {
			delete(v.rec, id)
			v.dirty = true
		}
	}
	v.save()
	return damage
}

// start runs a round every verifyInterval over the tables of db until halt.
// Damage found then is logged and makes every later call of the store fail
// (failure).
func (v *verifier) start(db *bdg.DB) {
	v.stop, v.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(v.done)
		tick := time.NewTicker(verifyInterval)
		defer tick.Stop()
		for {
			select {
			case <-v.stop:
				return
			case <-tick.C:
				err := v.round(v.live(db), v.stop)
				v.fail(err)
				if v.roundDone != nil {
					select {
					case v.roundDone <- err:
					case <-v.stop:
					}
				}
			}
		}
	}()
}

// live returns the tables of the open db, with the compression each was
// written with: as the MANIFEST listed it at Open, or the current setting
// for the tables written since.
func (v *verifier) live(db *bdg.DB) map[uint64]bdg.TableManifest {
	tables := map[uint64]bdg.TableManifest{}
	for _, ti := range db.Tables() {
		tm, ok := v.listed[ti.ID]
		if !ok {
			tm = bdg.TableManifest{Compression: v.compression}
		}
		tables[ti.ID] = tm
	}
	return tables
}

// halt stops the rounds started by start and waits for the current one.
func (v *verifier) halt() {
	if v.stop != nil {
		close(v.stop)
		<-v.done
	}
}

// atClose, once badger is closed, runs a round over the tables the MANIFEST
// lists, and returns the damage found since Open.
func (v *verifier) atClose() error {
	listed, err := readManifest(v.dir, v.bo)
	if err != nil {
		v.logger.Warn("badger: the tables written since the last verification will be verified at the next Open: " + err.Error())
	} else {
		v.fail(v.round(listed, nil))
	}
	return v.failure()
}

// fail records and logs err, when it is the first damage found after Open.
func (v *verifier) fail(err error) {
	if err != nil && v.damage.CompareAndSwap(nil, &err) {
		v.logger.Error(err.Error())
	}
}

// failure returns the first damage found after Open, or nil.
func (v *verifier) failure() error {
	if v == nil {
		return nil
	}
	if p := v.damage.Load(); p != nil {
		return *p
	}
	return nil
}

// isMissing reports whether path no longer exists.
func isMissing(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}
