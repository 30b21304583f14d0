package dump

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/logstore"
)

// A backup directory, as Store.Backup writes it and `eventstore restore`
// reads it:
//
//	BACKUP           the manifest (Manifest, JSON), written last
//	STORE, engine/   method "checkpoint": the engine's checkpoint, a store
//	                 that Open accepts as it is
//	events.esdump    method "dump": a dump of every record
//	snapshots/       the state-machine snapshots, both methods
//
// The manifest is written, atomically, only once everything else is durable:
// a directory without it is an unfinished backup and must not be restored.
const (
	ManifestName     = "BACKUP"
	DumpFileName     = "events.esdump"
	MethodCheckpoint = "checkpoint"
	MethodDump       = "dump"
	manifestFormat   = 1
)

// Manifest describes a finished backup.
type Manifest struct {
	// Format is the manifest's format version, 1.
	Format int `json:"format"`
	// Method is MethodCheckpoint or MethodDump.
	Method string `json:"method"`
	// Backend is the engine of the store that was backed up.
	Backend string `json:"backend"`
	// Head is the offset of the last record the backup holds.
	Head logstore.Offset `json:"head"`
	// Created is when the backup started, in UTC.
	Created time.Time `json:"created"`
	// Snapshots lists the offsets of the snapshot files copied, newest
	// first.
	Snapshots []logstore.Offset `json:"snapshots,omitempty"`
	// ContentHash is the content hash of the records, for MethodDump.
	ContentHash string `json:"content_hash,omitempty"`
	// Generation is the backed-up store's generation; 0 in backups of
	// releases that did not record it.
	Generation uint64 `json:"generation,omitempty"`
}

// WriteManifest writes m into dir atomically and durably.
func WriteManifest(dir string, m Manifest) error {
	m.Format = manifestFormat
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the backup manifest: %w", err)
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, ManifestName), append(b, '\n'), 0o644)
}

// ReadManifest reads the manifest of the backup in dir.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	path := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("%s has no %s file: it is not a backup, or an unfinished one (a backup writes its manifest last); take the backup again", dir, ManifestName)
	}
	if err != nil {
		return m, fmt.Errorf("read the backup manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("the backup manifest %s does not decode: %w", path, err)
	}
	switch {
	case m.Format > manifestFormat:
		return m, fmt.Errorf("the backup manifest %s has format %d, this build reads up to %d: use a newer eventstore", path, m.Format, manifestFormat)
	case m.Method != MethodCheckpoint && m.Method != MethodDump:
		return m, fmt.Errorf("the backup manifest %s names an unknown method %q", path, m.Method)
	case m.Backend == "":
		return m, fmt.Errorf("the backup manifest %s names no engine", path)
	}
	return m, nil
}
