package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/durablelog/eventstore/internal/lazyfs"
)

// SkipFUSEEnv, set to 1, lets the tests that mount a lazyfs (powerloss,
// internal/lazyfs) skip on a machine that cannot mount one.
const SkipFUSEEnv = "EVENTSTORE_SKIP_FUSE"

// fuseCmd checks, before the tests run, that the FUSE tests can run: they
// skip otherwise, which must not pass unnoticed.
func fuseCmd(args []string) error {
	if len(args) != 0 {
		return errors.New("fuse takes no arguments")
	}
	err := lazyfs.Available()
	switch {
	case err == nil:
		return nil
	case os.Getenv(SkipFUSEEnv) == "1":
		fmt.Printf("%s=1: the FUSE tests will be skipped: %v\n", SkipFUSEEnv, err)
		return nil
	}
	fmt.Fprintf(os.Stderr, `the FUSE tests (powerloss, internal/lazyfs: every test that mounts a lazyfs) cannot run on this machine:
  %v
make deps installs fuse3 (fusermount3). /dev/fuse must exist and open: load the
fuse module (modprobe fuse), or run the container with
  --device /dev/fuse --cap-add SYS_ADMIN
To run the other tests and skip these, set %s=1 (make test %s=1).
`, err, SkipFUSEEnv, SkipFUSEEnv)
	return errors.New("FUSE is not available")
}
