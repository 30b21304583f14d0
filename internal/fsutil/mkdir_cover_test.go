package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMkdirAllSyncDanglingLink: a dangling symbolic link reads as missing,
// and os.Mkdir then fails with EEXIST; MkdirAllSync must not take that for
// a directory made by someone else.
func TestMkdirAllSyncDanglingLink(t *testing.T) {
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Join(t.TempDir(), "gone", "away"), link); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAllSync(link, 0o755); err == nil {
		t.Fatal("MkdirAllSync succeeded, and the path is no directory")
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := MkdirAllSync(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAllSync(dir, 0o755); err != nil {
		t.Fatal("a second call on an existing directory:", err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("stat %s: %v %v", dir, fi, err)
	}
}
