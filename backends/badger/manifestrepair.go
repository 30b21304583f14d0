package badger

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// repairManifest undoes, before badger opens dir, what a power cut leaves
// when it strikes after a memtable flush: badger writes the flushed table,
// records it in its MANIFEST and fsyncs the MANIFEST, but does not fsync the
// directory (unlike after a compaction). On a file system that does not
// order directory changes before a later fsync of another file, the table's
// name may then be lost while the MANIFEST names it, and badger's Open
// fails for good: "file ... listed in the MANIFEST is missing".
//
// In that state the flush's other directory change, the removal of the
// memtable's write-ahead log (*.mem), was not made durable either: only a
// directory fsync makes either durable, and any directory fsync would have
// made the table's name durable too. So the flushed data is still in the
// *.mem file, which badger replays, unless that file's own name was never
// made durable (a memtable written and flushed with no sync in between,
// possible only with unsynced commits): then its data is lost either way,
// and the store that opens holds what was durable before it, which the
// event store's recovery checks against its head mark and for holes.
//
// The repair cuts the MANIFEST back to before the first change set that
// creates a missing table, provided that every change set from there on
// only creates missing tables: a compaction, which fsyncs the directory
// first, cannot follow a table whose name is still not durable. Anything
// else is left to badger, whose Open then fails with an error wrapping
// ErrCorrupt.
func repairManifest(dir string, logger *slog.Logger) error {
	path := filepath.Join(dir, "MANIFEST")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("badger: open %s: %w", path, err)
	}
	defer f.Close()
	sets, err := readChangeSets(f)
	if err != nil || len(sets) == 0 {
		return nil // badger's Open reports a damaged MANIFEST
	}
	live := map[uint64]bool{}
	for _, s := range sets {
		for _, c := range s.changes.GetChanges() {
			switch c.GetOp() {
			case pb.ManifestChange_CREATE:
				live[c.GetId()] = true
			case pb.ManifestChange_DELETE:
				delete(live, c.GetId())
			}
		}
	}
	missing := map[uint64]bool{}
	for id := range live {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%06d.sst", id))); errors.Is(err, fs.ErrNotExist) {
			missing[id] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	cut := -1
	for i, s := range sets {
		if createsOnly(s.changes, missing) {
			if cut < 0 {
				cut = i
			}
		} else if cut >= 0 {
			return nil // something else followed: not the flush case
		}
	}
	if cut < 0 {
		return nil
	}
	if err := f.Truncate(sets[cut].offset); err != nil {
		return fmt.Errorf("badger: cut %s back before the tables a power cut lost: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("badger: sync %s: %w", path, err)
	}
	logger.Warn("badger: the MANIFEST named tables whose names a power cut lost before their directory was synced; cut it back to before them",
		"manifest", path, "tables", len(missing), "change_sets_removed", len(sets)-cut)
	return nil
}

// changeSet is one change set of the MANIFEST and its offset in the file.
type changeSet struct {
	offset  int64
	changes *pb.ManifestChangeSet
}

// readChangeSets reads the change sets of a badger MANIFEST: an 8-byte header
// ("Bdgr", two versions), then entries of a 4-byte length, a 4-byte
// CRC-32C and a protobuf ManifestChangeSet (badger manifest.go). It stops at
// a torn tail, as badger does.
func readChangeSets(f *os.File) ([]changeSet, error) {
	r := bufio.NewReader(f)
	var head [8]byte
	if _, err := io.ReadFull(r, head[:]); err != nil || !bytes.Equal(head[:4], []byte("Bdgr")) {
		return nil, errors.New("not a badger MANIFEST")
	}
	var sets []changeSet
	offset := int64(len(head))
	table := crc32.MakeTable(crc32.Castagnoli)
	for {
		var lc [8]byte
		if _, err := io.ReadFull(r, lc[:]); err != nil {
			return sets, nil
		}
		n := binary.BigEndian.Uint32(lc[:4])
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return sets, nil
		}
		if crc32.Checksum(buf, table) != binary.BigEndian.Uint32(lc[4:]) {
			return nil, errors.New("a MANIFEST entry fails its checksum")
		}
		var cs pb.ManifestChangeSet
		if err := proto.Unmarshal(buf, &cs); err != nil {
			return nil, err
		}
		sets = append(sets, changeSet{offset: offset, changes: &cs})
		offset += int64(len(lc)) + int64(n)
	}
}

// createsOnly reports whether every change of cs creates a level-0 table of
// ids, as a memtable flush does.
func createsOnly(cs *pb.ManifestChangeSet, ids map[uint64]bool) bool {
	changes := cs.GetChanges()
	if len(changes) == 0 {
		return false
	}
	for _, c := range changes {
		if c.GetOp() != pb.ManifestChange_CREATE || c.GetLevel() != 0 || !ids[c.GetId()] {
			return false
		}
	}
	return true
}
