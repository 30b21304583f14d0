package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/logstore"
)

// Format is the STORE file format this build writes and the newest it reads.
const Format = 1

// Store is the content of dir/STORE.
type Store struct {
	Format  int       `json:"format"`
	Backend string    `json:"backend"`
	Created time.Time `json:"created"`
	// Generation is the store's generation (eventstore.Store.Generation);
	// a file without it is at generation 1.
	Generation uint64 `json:"generation,omitempty"`
	// Location names where a shared log lives (logstore.Shared.Identity),
	// for a backend such as PostgreSQL whose events are not in this
	// directory; empty for an engine's store.
	Location string `json:"location,omitempty"`
	// CRC is the CRC-32C (Castagnoli) of the file's JSON encoding without
	// it (see checksum). WriteStore sets it, and ReadStore checks it, so
	// that damage which leaves valid JSON (a flipped bit in the engine's
	// name, say) is reported as damage. A file without it, as a user
	// writes by hand, is read unchecked.
	CRC uint32 `json:"crc,omitempty"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum returns the CRC-32C of s's JSON encoding with its CRC field
// left out.
func (s Store) checksum() (uint32, error) {
	s.CRC = 0
	b, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	return crc32.Checksum(b, castagnoli), nil
}

// Gen returns the file's generation, 1 when it records none.
func (s Store) Gen() uint64 { return max(s.Generation, 1) }

// ReadStore returns the STORE file of dir, or found=false when there is none.
// It first removes the temporary files that a crash left behind. A file
// that does not decode, names a field this build does not know, or fails
// its checksum fails with a *logstore.CorruptionError wrapping
// backend.ErrCorrupt; a file of a newer format fails with an error that
// says to upgrade.
func ReadStore(dir string) (s Store, found bool, err error) {
	if err := RemoveTemps(dir); err != nil {
		return s, false, err
	}
	path := filepath.Join(dir, StoreFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("eventstore: read %s: %w", path, err)
	}
	damaged := func(why string) error {
		return &logstore.CorruptionError{File: path, Err: fmt.Errorf("%w: the STORE file is damaged (%s: %q); it names the engine of the store: restore it from a backup or write {\"format\":1,\"backend\":\"NAME\"}", logstore.ErrCorrupt, why, b)}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, damaged(err.Error())
	}
	if s.Format > Format {
		return s, false, fmt.Errorf("eventstore: %s has format %d, this build reads up to %d: upgrade eventstore (if no newer eventstore wrote it, the file is damaged: restore it from a backup)", path, s.Format, Format)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a flipped bit in a field's name
	if err := dec.Decode(new(Store)); err != nil {
		return s, false, damaged(err.Error())
	}
	if s.Backend == "" || s.Format <= 0 {
		return s, false, damaged("no format or engine name")
	}
	if s.CRC != 0 {
		sum, err := s.checksum()
		if err != nil || sum != s.CRC {
			return s, false, damaged(fmt.Sprintf("checksum mismatch: the file records %08x, its content sums to %08x", s.CRC, sum))
		}
	}
	return s, true, nil
}

// WriteStore replaces dir/STORE with s, atomically and durably.
func WriteStore(dir string, s Store) error {
	sum, err := s.checksum()
	if err != nil {
		return fmt.Errorf("eventstore: encode %s: %w", StoreFile, err)
	}
	s.CRC = sum
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("eventstore: encode %s: %w", StoreFile, err)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, StoreFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	return nil
}

// CreateStore records a new store of engine backendName at generation 1,
// after checking that dir holds nothing that is not a store's (see Ours).
func CreateStore(dir, backendName string) (Store, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Store{}, fmt.Errorf("eventstore: read %s: %w", dir, err)
	}
	for _, e := range entries {
		if !Ours(e.Name()) {
			return Store{}, fmt.Errorf("eventstore: %s is not empty and holds no store (found %q): open an empty or new directory", dir, e.Name())
		}
	}
	s := Store{Format: Format, Backend: backendName, Created: time.Now().UTC(), Generation: 1}
	return s, WriteStore(dir, s)
}

// SetGeneration records generation g in the STORE file of the closed store
// in dir, if it is higher than the one recorded: a generation never goes
// back.
func SetGeneration(dir string, g uint64) error {
	s, found, err := ReadStore(dir)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("eventstore: %s holds no store (no %s file)", dir, StoreFile)
	}
	if g <= s.Gen() {
		return nil
	}
	s.Generation = g
	return WriteStore(dir, s)
}

// RemoveTemps removes the temporary STORE and HEADMARK files that a crash
// during an earlier Open left behind.
func RemoveTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("eventstore: read %s: %w", dir, err)
	}
	removed := false
	for _, e := range entries {
		if !IsTemp(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("eventstore: remove %s, left by an interrupted Open: %w", filepath.Join(dir, e.Name()), err)
		}
		removed = true
	}
	if removed {
		return fsutil.SyncDir(dir)
	}
	return nil
}

// IsStore reports whether dir holds a store: a STORE file, or an engine
// directory (a store whose STORE file was lost, which Open writes again).
func IsStore(dir string) (bool, error) {
	for _, name := range []string{StoreFile, EngineDir} {
		_, err := os.Stat(filepath.Join(dir, name))
		switch {
		case err == nil:
			return true, nil
		case !errors.Is(err, fs.ErrNotExist):
			return false, fmt.Errorf("check %s: %w", dir, err)
		}
	}
	return false, nil
}
