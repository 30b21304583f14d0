package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/durablelog/eventstore/internal/dump"
	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/layout"
)

// Backup methods, as BackupReport.Method names them.
const (
	// BackupCheckpoint: the engine wrote a checkpoint, a consistent copy of
	// its files (hard links where it can). The backup is a store that Open
	// accepts as it is.
	BackupCheckpoint = dump.MethodCheckpoint
	// BackupDump: the engine has no checkpoint, and the backup holds a dump
	// of every record in the export format (`eventstore export`).
	BackupDump = dump.MethodDump
)

// BackupReport says what Backup wrote.
type BackupReport struct {
	// Method is BackupCheckpoint or BackupDump.
	Method string
	// Backend is the store's engine.
	Backend string
	// Head is the offset of the last record the backup holds.
	Head Offset
	// Snapshots counts the snapshot files copied.
	Snapshots int
	// ContentHash is the content hash of the records, with BackupDump: the
	// hash `eventstore verify --hash` prints for the restored store.
	ContentHash string
	// Duration is how long Backup took.
	Duration time.Duration
}

// Backup writes a consistent copy of the store into dest, a directory that
// must not exist yet or be empty, while the store stays open: appends, reads
// and snapshots go on meanwhile. The copy holds every record up to some
// offset at least as large as the head when Backup was called (the report
// says which), and the snapshots the store held when Backup started, all
// at or below that offset.
//
// When the engine can checkpoint itself (backend.Checkpointer: rocksdb and
// pebble), dest is a store of the same engine that Open accepts as it is;
// otherwise (badger, memory) dest holds a dump of the records in the export
// format, which `eventstore restore` or `eventstore import` loads into a new
// store of any engine. Either way Backup writes the manifest dest/BACKUP
// last, once everything else is durable: a directory without it is an
// unfinished backup. `eventstore restore` checks and restores a backup; the
// layout is documented there and in docs/cli.md.
//
// If Backup fails, dest may hold part of a backup, without a manifest;
// remove it and try again.
func (s *Store) Backup(ctx context.Context, dest string) (BackupReport, error) {
	return s.BackupProgress(ctx, dest, nil)
}

// BackupProgress is Backup with a progress callback, called now and then
// with the offset reached while a dump is written. A checkpoint reports no
// progress.
func (s *Store) BackupProgress(ctx context.Context, dest string, progress func(Offset)) (BackupReport, error) {
	start := time.Now()
	rep := BackupReport{Backend: s.backend}
	if err := s.checkOpen(); err != nil {
		return rep, err
	}
	if err := prepareBackupDir(dest); err != nil {
		return rep, err
	}
	m := dump.Manifest{Backend: s.backend, Created: start.UTC(), Generation: s.Generation()}
	// The snapshots first: every one copied now covers at most the head
	// now, which the records copied next reach. Copied after them, they
	// could all be newer than the records under a steady load, since the
	// store prunes the older ones as it takes new ones.
	snaps, err := dump.CopySnapshots(layout.Snapshots(s.dir), layout.Snapshots(dest), s.Head())
	if err != nil {
		return rep, fmt.Errorf("eventstore: backup of %s into %s: copy the snapshots: %w", s.dir, dest, err)
	}
	rep.Snapshots = len(snaps)
	rep.Method = BackupCheckpoint
	ok, err := s.backupCheckpoint(ctx, dest, &rep)
	if !ok {
		rep.Method = BackupDump
		err = s.backupDump(ctx, dest, &rep, progress)
	}
	if err != nil {
		return rep, fmt.Errorf("eventstore: backup of %s into %s: %w", s.dir, dest, err)
	}
	m.Method, m.Head, m.Snapshots, m.ContentHash = rep.Method, rep.Head, snaps, rep.ContentHash
	if err := fsutil.SyncDir(dest); err != nil {
		return rep, fmt.Errorf("eventstore: backup into %s: %w", dest, err)
	}
	if err := dump.WriteManifest(dest, m); err != nil {
		return rep, fmt.Errorf("eventstore: backup into %s: %w", dest, err)
	}
	if err := fsutil.SyncDir(filepath.Dir(filepath.Clean(dest))); err != nil {
		return rep, fmt.Errorf("eventstore: backup into %s: %w", dest, err)
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// prepareBackupDir creates dest, or checks that it is an empty directory.
func prepareBackupDir(dest string) error {
	entries, err := os.ReadDir(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := fsutil.MkdirAllSync(dest, 0o755); err != nil {
			return fmt.Errorf("eventstore: backup: create %s: %w", dest, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("eventstore: backup into %s: %w; give a new or empty directory", dest, err)
	case len(entries) > 0:
		return fmt.Errorf("eventstore: backup into %s: the directory is not empty (it holds %q): give a new or empty directory", dest, entries[0].Name())
	}
	return nil
}

// backupCheckpoint asks the log for a checkpoint into dest/engine and copies
// dest/STORE, which records the engine. ok is false when the log or its
// engine cannot checkpoint itself: the caller writes a dump instead.
func (s *Store) backupCheckpoint(ctx context.Context, dest string, rep *BackupReport) (ok bool, err error) {
	if s.checkpointer == nil {
		return false, nil
	}
	head, err := s.checkpointer.Checkpoint(ctx, layout.Engine(dest))
	if errors.Is(err, ErrUnsupported) {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("checkpoint the %s engine: %w", s.backend, err)
	}
	rep.Head = head
	return true, dump.CopyFile(filepath.Join(s.dir, layout.StoreFile), filepath.Join(dest, layout.StoreFile))
}

// backupDump writes every record up to the current head into
// dest/events.esdump.
func (s *Store) backupDump(ctx context.Context, dest string, rep *BackupReport, progress func(Offset)) (err error) {
	rep.Head = s.Head()
	path := filepath.Join(dest, dump.DumpFileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	tr, err := s.writeDump(ctx, f, rep.Head, progress)
	if err != nil {
		return err
	}
	rep.ContentHash = tr.Hash.String()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// writeDump writes the records from offset 1 to head, which must not be past
// the head, to w in the export format (see `eventstore export`), calling
// progress, if not nil, now and then with the offset reached. Appends may
// run meanwhile. It returns the dump's trailer.
func (s *Store) writeDump(ctx context.Context, w io.Writer, head Offset, progress func(Offset)) (dump.Trailer, error) {
	if head > s.Head() {
		return dump.Trailer{}, fmt.Errorf("eventstore: dump up to offset %d: the head is %d", head, s.Head())
	}
	dw, err := dump.NewWriter(w, dump.Header{Backend: s.backend, Head: head})
	if err != nil {
		return dump.Trailer{}, err
	}
	if head > 0 {
		for r, err := range s.logRecords(ctx, 1, int(head)) {
			if err != nil {
				return dump.Trailer{}, err
			}
			if err := dw.Write(&r); err != nil {
				return dump.Trailer{}, err
			}
			if progress != nil && r.Offset%4096 == 0 {
				progress(r.Offset)
			}
		}
	}
	tr, err := dw.Close()
	if err == nil && progress != nil {
		progress(head)
	}
	return tr, err
}
