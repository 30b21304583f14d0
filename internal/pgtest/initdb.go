package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// childEnv is the whole environment of initdb and postgres: none of this
// process's PG* variables (PGDATA, PGPORT, ...) may reach them.
var childEnv = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "LANG=C", "TZ=UTC"}

// initdb makes the cluster in l.data, as acct.
func initdb(ctx context.Context, bin binaries, acct account, l layout, superuser string) error {
	cmd := exec.CommandContext(ctx, bin.initdb,
		"--pgdata", l.data,
		"--username", superuser,
		"--encoding", "UTF8",
		"--no-locale",
		"--auth-local", "trust",
		"--auth-host", "trust",
		"--no-sync", // see the package doc: tests crash processes, not the machine
		"--no-instructions",
	)
	cmd.Env = childEnv
	cmd.Dir = l.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: acct.cred, Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return fmt.Errorf("pgtest: %s as user %s: %w:\n%s", bin.initdb, acct.name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// includeConf is the file of this package's settings, included from
// postgresql.conf.
const includeConf = "pgtest.conf"

// includeSettings makes postgresql.conf include includeConf, last, so that
// its settings win.
func includeSettings(l layout) error {
	path := filepath.Join(l.data, "postgresql.conf")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# The settings of the test server, written by pgtest.\ninclude '%s'\n", includeConf)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("pgtest: append to %s: %w", path, err)
	}
	return nil
}
