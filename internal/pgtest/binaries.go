package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// BinDirEnv is the environment variable that names the directory of
// initdb and postgres, ahead of PATH and the usual places.
const BinDirEnv = "PGTEST_BINDIR"

// ErrNotInstalled means that initdb and postgres were not found. The error
// that StartServer returns wraps it and says how to install them.
var ErrNotInstalled = errors.New("pgtest: the PostgreSQL server programs (initdb, postgres) are not installed")

// serverPrograms are the programs a bin directory must hold.
var serverPrograms = []string{"initdb", "postgres"}

// binaries are the paths of the server programs.
type binaries struct {
	dir      string
	initdb   string
	postgres string
}

// findBinaries finds the directory of the server programs: configured when
// set, else as the package doc describes.
func findBinaries(configured string) (binaries, error) {
	if configured != "" {
		return binariesIn(configured, "Config.BinDir")
	}
	if env := os.Getenv(BinDirEnv); env != "" {
		return binariesIn(env, BinDirEnv)
	}
	for _, dir := range candidateDirs() {
		if b, err := binariesIn(dir, ""); err == nil {
			return b, nil
		}
	}
	return binaries{}, fmt.Errorf("%w: looked on PATH and in /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin and /usr/local/pgsql/bin; "+
		"run make deps, which installs them (apt-get install postgresql), or set %s to the directory that holds them", ErrNotInstalled, BinDirEnv)
}

// binariesIn checks that dir holds the server programs. from names where
// dir came from, for the error; "" when it was only a guess.
func binariesIn(dir, from string) (binaries, error) {
	for _, name := range serverPrograms {
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if err == nil && (info.IsDir() || info.Mode().Perm()&0o111 == 0) {
			err = fmt.Errorf("%s is not an executable file", path)
		}
		if err != nil {
			return binaries{}, fmt.Errorf("%w: %s (from %s) has no %s: %w; run make deps, which installs them (apt-get install postgresql)",
				ErrNotInstalled, dir, from, name, err)
		}
	}
	return binaries{dir: dir, initdb: filepath.Join(dir, "initdb"), postgres: filepath.Join(dir, "postgres")}, nil
}

// candidateDirs lists the directories to look in, in order: the one on
// PATH, then the newest version of each packaged layout first.
func candidateDirs() []string {
	var dirs []string
	if path, err := exec.LookPath("postgres"); err == nil {
		// A symbolic link on PATH (/usr/local/bin/postgres ->
		// /usr/lib/postgresql/15/bin/postgres) names the real directory.
		if real, err := filepath.EvalSymlinks(path); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(path))
	}
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			continue // the patterns are constant and valid
		}
		slices.SortFunc(matches, func(a, b string) int { return versionOf(b) - versionOf(a) })
		dirs = append(dirs, matches...)
	}
	return append(dirs, "/usr/local/pgsql/bin")
}

// versionOf reads the major version out of a path such as
// /usr/lib/postgresql/15/bin or /usr/pgsql-16/bin; 0 when it has none.
func versionOf(binDir string) int {
	name := filepath.Base(filepath.Dir(binDir))
	name = strings.TrimPrefix(name, "pgsql-")
	major, _, _ := strings.Cut(name, ".")
	v, err := strconv.Atoi(major)
	if err != nil {
		return 0
	}
	return v
}
