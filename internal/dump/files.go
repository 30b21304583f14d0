package dump

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/durablelog/eventstore/internal/fsutil"
	"github.com/durablelog/eventstore/internal/snapfile"
	"github.com/durablelog/eventstore/logstore"
)

// CopySnapshots copies the snapshot files of srcDir whose offset is at most
// maxOffset into dstDir, which it creates, and makes them durable: the
// files, their names in dstDir, and dstDir's own entry in its parent. It checks
// every copy (snapfile.Check) and drops a copy that fails: a damaged snapshot
// is not worth keeping. A snapshot that disappears meanwhile (pruned by the
// store) is skipped. It returns the offsets copied, newest first.
func CopySnapshots(srcDir, dstDir string, maxOffset logstore.Offset) ([]logstore.Offset, error) {
	list, err := snapfile.List(srcDir)
	if err != nil {
		return nil, err
	}
	var copied []logstore.Offset
	for _, info := range list {
		if logstore.Offset(info.Offset) > maxOffset {
			continue
		}
		if len(copied) == 0 {
			// The new directory's entry is made durable in its parent
			// before anything is copied into it.
			if err := fsutil.MkdirAllSync(dstDir, 0o755); err != nil {
				return nil, fmt.Errorf("create %s: %w", dstDir, err)
			}
		}
		dst := filepath.Join(dstDir, filepath.Base(info.Path))
		err := CopyFile(info.Path, dst)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if _, err := snapfile.Check(dst); err != nil {
			_ = os.Remove(dst)
			continue
		}
		copied = append(copied, logstore.Offset(info.Offset))
	}
	if len(copied) > 0 {
		if err := fsutil.SyncDir(dstDir); err != nil {
			return nil, err
		}
	}
	return copied, nil
}

// CopyFile copies src to dst, which must not exist, and fsyncs dst. It does
// not sync dst's directory.
func CopyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", dst, cerr)
		}
		if err != nil {
			_ = os.Remove(dst)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dst, err)
	}
	return nil
}
