package badger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/durablelog/eventstore/internal/fsutil"
)

// verifiedFile is the record of the tables whose every block checksum was
// verified, in the store's directory. Badger ignores files it does not know.
//
// Format, little-endian:
//
//	magic    [8]byte "ESBGVER1"
//	count    uint32
//	count × { id uint64, dev uint64, ino uint64, size int64, mtime int64, ctime int64 }
//	crc      uint32  CRC-32C of every byte before it
//
// An entry says: the table file with this id, as it was when its device,
// inode, size and modification and change times (nanoseconds since the
// epoch) were those recorded, passed the verification of every block. The
// record is advisory: when it is missing, damaged or from another file
// state, the tables concerned are verified again.
const verifiedFile = "VERIFIED"

var verifiedMagic = [8]byte{'E', 'S', 'B', 'G', 'V', 'E', 'R', '1'}

const (
	verifiedHeader = 8 + 4
	verifiedEntry  = 6 * 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fingerprint identifies the state of a table file. Any write, truncation,
// replacement or copy through the file system changes it: the kernel sets
// the change time on every change to the file, and no system call sets it
// back.
type fingerprint struct {
	dev, ino           uint64
	size, mtime, ctime int64
}

// Minimum ages of a fingerprint's times for settled. They must exceed the
// granularity of the file system's timestamps: Linux file systems with
// nanosecond fields take them from a clock that advances once per tick (a
// few milliseconds); others store whole seconds, or two-second steps.
var (
	settleAge       = 100 * time.Millisecond
	settleAgeCoarse = 2 * time.Second
)

// settled reports whether a file whose fingerprint is fp, read after the
// time now, may be recorded: whether a later change of the file is sure to
// set another change time. A file changed within the same timestamp tick as
// its last change would keep its change time, so a file is recorded only
// once its times are older than the timestamps' granularity.
func (fp fingerprint) settled(now time.Time) bool {
	age := settleAge
	if fp.ctime%int64(time.Second) == 0 && fp.mtime%int64(time.Second) == 0 {
		age = settleAgeCoarse
	}
	return now.UnixNano()-max(fp.ctime, fp.mtime) >= int64(age)
}

// record maps table ids to the fingerprint their file had when it passed a
// full verification.
type record map[uint64]fingerprint

// errBadRecord marks a record file that cannot be trusted.
var errBadRecord = errors.New("the record of verified tables is damaged")

// readRecord reads the record in dir. A missing file is an empty record; a
// damaged one is an error wrapping errBadRecord.
func readRecord(dir string) (record, error) {
	data, err := os.ReadFile(filepath.Join(dir, verifiedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return record{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRecord, err)
	}
	return decodeRecord(data)
}

func decodeRecord(data []byte) (record, error) {
	bad := func(why string) (record, error) { return nil, fmt.Errorf("%w: %s", errBadRecord, why) }
	if len(data) < verifiedHeader+4 || [8]byte(data[:8]) != verifiedMagic {
		return bad("bad header")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return bad("checksum mismatch")
	}
	n := binary.LittleEndian.Uint32(data[8:12])
	if uint64(len(body)-verifiedHeader) != uint64(n)*verifiedEntry {
		return bad(fmt.Sprintf("%d bytes for %d entries", len(body), n))
	}
	rec := make(record, n)
	for p := body[verifiedHeader:]; len(p) > 0; p = p[verifiedEntry:] {
		u := func(i int) uint64 { return binary.LittleEndian.Uint64(p[8*i:]) }
		rec[u(0)] = fingerprint{dev: u(1), ino: u(2), size: int64(u(3)), mtime: int64(u(4)), ctime: int64(u(5))}
	}
	return rec, nil
}

func encodeRecord(rec record) []byte {
	b := make([]byte, 0, verifiedHeader+len(rec)*verifiedEntry+4)
	b = append(b, verifiedMagic[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rec)))
	for _, id := range slices.Sorted(maps.Keys(rec)) {
		fp := rec[id]
		for _, v := range []uint64{id, fp.dev, fp.ino, uint64(fp.size), uint64(fp.mtime), uint64(fp.ctime)} {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// writeRecord replaces the record in dir atomically and durably (temporary
// file, fsync, rename, directory fsync).
func writeRecord(dir string, rec record) error {
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, verifiedFile), encodeRecord(rec), 0o644); err != nil {
		return fmt.Errorf("badger: write the record of verified tables: %w", err)
	}
	return nil
}

// removeRecordTemps deletes the temporary files that a crash during
// writeRecord may have left in dir.
func removeRecordTemps(dir string) error {
	tmps, err := filepath.Glob(filepath.Join(dir, "."+verifiedFile+".tmp*"))
	if err != nil {
		return err
	}
	for _, p := range tmps {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("badger: remove %s: %w", p, err)
		}
	}
	return nil
}
