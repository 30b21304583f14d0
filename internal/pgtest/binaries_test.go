package pgtest

import (
	"path/filepath"
	"testing"
)

func TestVersionOf(t *testing.T) {
	t.Parallel()
	for dir, want := range map[string]int{
		"/usr/lib/postgresql/15/bin":  15,
		"/usr/lib/postgresql/9.6/bin": 9,
		"/usr/pgsql-16/bin":           16,
		"/usr/local/pgsql/bin":        0,
	} {
		if got := versionOf(dir); got != want {
			t.Errorf("versionOf(%q) = %d, want %d", dir, got, want)
		}
	}
}

// TestFindBinariesOffPath finds the server programs where Debian puts
// them, off PATH.
func TestFindBinariesOffPath(t *testing.T) {
	debian, err := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if len(debian) == 0 {
		t.Skip("no /usr/lib/postgresql/*/bin/postgres: not a Debian layout")
	}
	t.Setenv(BinDirEnv, "")
	t.Setenv("PATH", "/nonexistent")
	b, err := findBinaries("")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := filepath.Match("/usr/lib/postgresql/*/bin", b.dir); err != nil || !m {
		t.Fatalf("found %s (%v), want /usr/lib/postgresql/*/bin", b.dir, err)
	}
}
