package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
)

// The temporary directory of a server holds:
const (
	dataDirName = "data"         // the cluster (PGDATA)
	sockDirName = "s"            // the Unix socket, kept short (see maxSocketPath)
	logName     = "postgres.log" // the server's log, over all its starts
)

// maxSocketPath is the longest Unix socket path Linux takes (sun_path is
// 108 bytes, with the final NUL).
const maxSocketPath = 107

// layout names the files of a server's temporary directory.
type layout struct {
	dir  string // the temporary directory
	data string
	sock string
	log  string
}

// makeLayout makes a temporary directory in base, owned by acct, with the
// socket directory in it. initdb makes the data directory.
func makeLayout(base string, acct account) (layout, error) {
	if base == "" {
		base = os.TempDir()
	}
	// The server runs as another user in another working directory: a
	// relative base would name another place there.
	base, err := filepath.Abs(base)
	if err != nil {
		return layout{}, fmt.Errorf("pgtest: the base directory: %w", err)
	}
	if err := acct.checkReach(base); err != nil {
		return layout{}, err
	}
	dir, err := os.MkdirTemp(base, "pgtest-")
	if err != nil {
		return layout{}, fmt.Errorf("pgtest: make the temporary directory: %w", err)
	}
	l := layout{
		dir:  dir,
		data: filepath.Join(dir, dataDirName),
		sock: filepath.Join(dir, sockDirName),
		log:  filepath.Join(dir, logName),
	}
	if err := l.populate(acct); err != nil {
		return layout{}, removeAfter(dir, err)
	}
	return l, nil
}

// populate sets the temporary directory up: its owner and the socket
// directory.
func (l layout) populate(acct account) error {
	// The socket's name is .s.PGSQL.<port>, at most 17 bytes.
	if n := len(l.sock) + len("/.s.PGSQL.65535"); n > maxSocketPath {
		return fmt.Errorf("pgtest: the socket path in %s would be %d bytes, more than Linux's %d: set TMPDIR or Config.BaseDir to a shorter directory",
			l.dir, n, maxSocketPath)
	}
	if err := os.Chmod(l.dir, 0o700); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if err := acct.chown(l.dir); err != nil {
		return err
	}
	if err := os.Mkdir(l.sock, 0o700); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return acct.chown(l.sock)
}

// removeAfter removes dir after err, and returns err with the removal's
// error, if any.
func removeAfter(dir string, err error) error {
	if rmErr := os.RemoveAll(dir); rmErr != nil {
		return fmt.Errorf("%w (and removing %s failed: %w)", err, dir, rmErr)
	}
	return err
}
