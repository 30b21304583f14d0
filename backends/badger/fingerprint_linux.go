package badger

import (
	"fmt"
	"os"
	"syscall"
)

// statTable returns the fingerprint of the table file at path. usable is
// false where the platform gives no change time, and the table is then
// always verified in full.
func statTable(path string) (fp fingerprint, usable bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fp, false, err
	}
	if !fi.Mode().IsRegular() {
		return fp, false, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fp, false, nil
	}
	return fingerprint{
		dev: uint64(st.Dev), ino: st.Ino, size: st.Size,
		mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(),
	}, true, nil
}
