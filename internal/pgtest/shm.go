package pgtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// removeStaleSegment removes the System V shared memory segment that a
// killed server leaves behind. PostgreSQL keeps a small one as a lock on
// the data directory, removes it at a clean shutdown, and removes a killed
// server's at the next start; one left by the last kill would outlive the
// directory. Its key and id are on line 7 of postmaster.pid, which only a
// server that did not shut down cleanly leaves. The segment is removed
// only while no process is attached to it.
func removeStaleSegment(dataDir string) error {
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	data, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 7 {
		return nil // killed before it made the segment
	}
	fields := strings.Fields(lines[6])
	if len(fields) != 2 {
		return fmt.Errorf("pgtest: %s: line 7 is %q, want the shared memory key and id", pidFile, lines[6])
	}
	key, err := strconv.ParseUint(fields[0], 10, 32)
	if err != nil {
		return fmt.Errorf("pgtest: %s: shared memory key: %w", pidFile, err)
	}
	if key == 0 {
		return nil // no segment (a segment with key 0 is another's)
	}
	id, err := strconv.Atoi(fields[1])
	if err != nil {
		return fmt.Errorf("pgtest: %s: shared memory id: %w", pidFile, err)
	}
	var desc unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &desc); err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EIDRM) {
			return nil // removed already
		}
		return fmt.Errorf("pgtest: inspect shared memory segment %d: %w", id, err)
	}
	if uint32(desc.Perm.Key) != uint32(key) || desc.Nattch != 0 {
		return nil // another segment now, or still in use
	}
	if _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); err != nil {
		return fmt.Errorf("pgtest: remove shared memory segment %d: %w", id, err)
	}
	return nil
}
