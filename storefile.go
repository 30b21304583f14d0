package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/headmark"
)

// The directory layout:
//
//	dir/LOCK        the owner lock
//	dir/STORE       what the directory holds: format and engine name
//	dir/engine/     the engine's files
//	dir/snapshots/  state-machine snapshots
const (
	storeFileName = "STORE"
	engineDirName = "engine"
	storeFormat   = 1
)

// storeFile is the content of dir/STORE.
type storeFile struct {
	Format  int       `json:"format"`
	Backend string    `json:"backend"`
	Created time.Time `json:"created"`
	// Generation is the store's generation (Store.Generation); a file
	// without it is at generation 1.
	Generation uint64 `json:"generation,omitempty"`
}

// generation returns the file's generation, 1 when it records none.
func (sf storeFile) generation() uint64 { return max(sf.Generation, 1) }

// writeStoreFile replaces dir/STORE with sf, atomically and durably.
func writeStoreFile(dir string, sf storeFile) error {
	b, err := json.Marshal(sf)
	if err != nil {
		return fmt.Errorf("eventstore: encode %s: %w", storeFileName, err)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, storeFileName), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	return nil
}

// readStoreFile returns the directory's STORE file, or found=false when
// there is none.
func readStoreFile(dir string) (sf storeFile, found bool, err error) {
	if err := removeStoreTemps(dir); err != nil {
		return sf, false, err
	}
	path := filepath.Join(dir, storeFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return sf, false, nil
	}
	if err != nil {
		return sf, false, fmt.Errorf("eventstore: read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &sf); err != nil || sf.Backend == "" || sf.Format <= 0 {
		return sf, false, fmt.Errorf("%w: %s is damaged (%q); it names the engine of the store, restore it from a backup or write {\"format\":1,\"backend\":\"NAME\"}", ErrCorrupt, path, b)
	}
	if sf.Format > storeFormat {
		return sf, false, fmt.Errorf("eventstore: %s has format %d, this build reads up to %d: upgrade eventstore", path, sf.Format, storeFormat)
	}
	return sf, true, nil
}

// storeTempPrefix starts the name of the temporary file that
// fsutil.WriteFileAtomic writes before it renames it to STORE. A crash
// between the two leaves it behind.
const storeTempPrefix = "." + storeFileName + ".tmp"

// removeStoreTemps removes the temporary STORE files that a crash during an
// earlier Open left behind.
func removeStoreTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("eventstore: read %s: %w", dir, err)
	}
	removed := false
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), storeTempPrefix) {
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

// createStoreFile records a new store's engine, after checking that the
// directory holds nothing else that is not ours.
func createStoreFile(dir, backendName string) (storeFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return storeFile{}, fmt.Errorf("eventstore: read %s: %w", dir, err)
	}
	for _, e := range entries {
		switch e.Name() {
		case "LOCK", engineDirName, snapshotDirName, headmark.FileName:
		default:
			return storeFile{}, fmt.Errorf("eventstore: %s is not empty and holds no store (found %q): open an empty or new directory", dir, e.Name())
		}
	}
	sf := storeFile{Format: storeFormat, Backend: backendName, Created: time.Now().UTC(), Generation: 1}
	return sf, writeStoreFile(dir, sf)
}
