package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// account is the user that runs initdb and postgres.
type account struct {
	name     string
	uid, gid int
	// cred switches a child process to the account; nil when the account
	// is this process's own.
	cred *syscall.Credential
}

// useraddMu keeps two servers that start at once from both creating the
// user.
var useraddMu sync.Mutex

// serverAccount returns the account to run the server as: name, created
// when missing, when this process is root; else this process's own.
func serverAccount(name string) (account, error) {
	if os.Geteuid() != 0 {
		return currentAccount(), nil
	}
	useraddMu.Lock()
	defer useraddMu.Unlock()
	u, err := user.Lookup(name)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) {
		if err := addSystemUser(name); err != nil {
			return account{}, err
		}
		u, err = user.Lookup(name)
	}
	if err != nil {
		return account{}, fmt.Errorf("pgtest: look up user %q: %w", name, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("pgtest: user %q has uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("pgtest: user %q has gid %q: %w", name, u.Gid, err)
	}
	if uid == 0 {
		return account{}, fmt.Errorf("pgtest: user %q is root, and PostgreSQL refuses to run as root: set Config.User to another user", name)
	}
	// No supplementary groups: Groups is empty and NoSetGroups false.
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return account{name: name, uid: uid, gid: gid, cred: cred}, nil
}

// currentAccount is this process's own account.
func currentAccount() account {
	a := account{uid: os.Geteuid(), gid: os.Getegid()}
	if u, err := user.LookupId(strconv.Itoa(a.uid)); err == nil {
		a.name = u.Username
	} else {
		a.name = "uid " + strconv.Itoa(a.uid) // only for messages
	}
	return a
}

// addSystemUser creates the system user name, with a group of its own and
// no login.
func addSystemUser(name string) error {
	cmd := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: create the system user %q to run PostgreSQL as (PostgreSQL refuses to run as root): useradd: %w: %s", name, err, out)
	}
	return nil
}

// chown gives path to the account, when it is not this process's own.
func (a account) chown(path string) error {
	if a.cred == nil {
		return nil
	}
	if err := os.Chown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("pgtest: give %s to user %s: %w", path, a.name, err)
	}
	return nil
}

// checkReach fails when the account cannot search every directory from /
// down to dir, which it needs to reach the temporary directory in dir.
func (a account) checkReach(dir string) error {
	if a.cred == nil {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("pgtest: base directory %s: %w", dir, err)
	}
	for p := abs; ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgtest: base directory %s: %w", dir, err)
		}
		if !a.canSearch(info) {
			return fmt.Errorf("pgtest: user %s cannot reach %s (%s is %v): set TMPDIR or Config.BaseDir to a directory it can reach, such as /tmp",
				a.name, abs, p, info.Mode())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// canSearch tells whether the account may search the directory of info,
// by its owner, group and mode (ACLs are not read).
func (a account) canSearch(info os.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := info.Mode().Perm()
	switch {
	case int(st.Uid) == a.uid:
		return mode&0o100 != 0
	case int(st.Gid) == a.gid:
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}
