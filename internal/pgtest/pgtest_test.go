package pgtest_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// connect opens a connection to dsn and closes it when the test ends.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", dsn, err)
	}
	t.Cleanup(func() {
		if conn.IsClosed() {
			return // broken by the test, on purpose
		}
		if err := conn.Close(context.Background()); err != nil {
			t.Errorf("close the connection: %v", err)
		}
	})
	return conn
}

// execSQL runs sql on conn and fails the test on error.
func execSQL(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// count returns SELECT count(*) FROM table.
func count(t *testing.T, conn *pgx.Conn, table string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// alive tells whether pid is a running process (not gone, not a zombie).
func alive(t *testing.T, pid int) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return fields[0] != "Z"
}

func TestStartInsertReadBack(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t, pgtest.WithSetting("work_mem", "'8MB'"))
	if err := srv.CreateDatabase(t.Context(), "events"); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, srv.DSN("events"))
	execSQL(t, conn, "CREATE TABLE e (id bigint PRIMARY KEY, body text NOT NULL)")
	execSQL(t, conn, "INSERT INTO e VALUES (1, 'one'), (2, 'two')")
	var body string
	if err := conn.QueryRow(t.Context(), "SELECT body FROM e WHERE id = 2").Scan(&body); err != nil {
		t.Fatal(err)
	}
	if body != "two" {
		t.Fatalf("read back %q, want %q", body, "two")
	}

	// The Unix socket reaches the same database.
	sock := connect(t, srv.SocketDSN("events"))
	if n := count(t, sock, "e"); n != 2 {
		t.Fatalf("over the socket: %d rows, want 2", n)
	}

	// The settings the package promises.
	for name, want := range map[string]string{
		"fsync":              "on",
		"synchronous_commit": "on",
		"listen_addresses":   "127.0.0.1",
		"max_connections":    "200",
		"server_encoding":    "UTF8",
		"port":               strconv.Itoa(srv.Port()),
		"ssl":                "off",
		"work_mem":           "8MB",
	} {
		var got string
		if err := conn.QueryRow(t.Context(), "SELECT current_setting($1)", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, err := os.Stat(srv.LogFile()); err != nil {
		t.Errorf("the server log: %v", err)
	}
}

func TestKillRestartKeepsCommittedData(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	ctx := t.Context()
	conn := connect(t, srv.DSN("postgres"))
	execSQL(t, conn, "CREATE TABLE e (id bigint PRIMARY KEY)")
	execSQL(t, conn, "INSERT INTO e SELECT generate_series(1, 1000)")

	// Every process of the server: the postmaster, the client backends
	// and the background processes.
	pids := []int{srv.PID()}
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity")
	if err != nil {
		t.Fatal(err)
	}
	backends, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if len(backends) < 3 {
		t.Fatalf("pg_stat_activity lists %d processes, want the background ones too", len(backends))
	}
	pids = append(pids, backends...)

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(t, pid) {
			t.Fatalf("process %d of the server (%v) still running after Kill", pid, pids)
		}
	}
	if srv.PID() != 0 {
		t.Fatalf("PID() = %d after Kill, want 0", srv.PID())
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("a query on a killed server succeeded")
	}
	if err := srv.Kill(); !errors.Is(err, pgtest.ErrNotRunning) {
		t.Fatalf("Kill of a killed server: %v, want ErrNotRunning", err)
	}

	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(ctx); !errors.Is(err, pgtest.ErrRunning) {
		t.Fatalf("Restart of a running server: %v, want ErrRunning", err)
	}
	again := connect(t, srv.DSN("postgres"))
	if n := count(t, again, "e"); n != 1000 {
		t.Fatalf("%d rows after kill -9 and restart, want 1000", n)
	}
	execSQL(t, again, "INSERT INTO e VALUES (1001)")
	log, err := os.ReadFile(srv.LogFile())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("database system was interrupted")) {
		t.Errorf("the log shows no crash recovery:\n%s", log)
	}
}

func TestStopRestart(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	conn := connect(t, srv.DSN("postgres"))
	execSQL(t, conn, "CREATE TABLE e (id bigint)")
	execSQL(t, conn, "INSERT INTO e VALUES (1)")
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); !errors.Is(err, pgtest.ErrNotRunning) {
		t.Fatalf("Stop of a stopped server: %v, want ErrNotRunning", err)
	}
	if err := srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, connect(t, srv.DSN("postgres")), "e"); n != 1 {
		t.Fatalf("%d rows after a restart, want 1", n)
	}
}

func TestTerminateBackendsBreaksCommit(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	ctx := t.Context()
	for _, db := range []string{"victim", "bystander"} {
		if err := srv.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	victim := connect(t, srv.DSN("victim"))
	bystander := connect(t, srv.DSN("bystander"))
	execSQL(t, victim, "CREATE TABLE e (id bigint)")

	tx, err := victim.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO e VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	n, err := srv.TerminateBackends(ctx, "victim")
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("terminated %d backends, want 1", n)
	}
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("commit on a terminated connection succeeded")
	}
	if _, err := bystander.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("a connection to another database broke: %v", err)
	}
	if got := count(t, connect(t, srv.DSN("victim")), "e"); got != 0 {
		t.Fatalf("%d rows after the broken commit, want 0", got)
	}
}

func TestTLS(t *testing.T) {
	// Not parallel: it sets the libpq variables of Env.
	srv := pgtest.Start(t, pgtest.WithTLS())
	dsn := srv.DSN("postgres")
	if !strings.Contains(dsn, "sslmode=require") {
		t.Fatalf("DSN %s does not ask for sslmode=require", dsn)
	}
	assertTLS := func(dsn string) {
		t.Helper()
		conn := connect(t, dsn)
		var ssl bool
		if err := conn.QueryRow(t.Context(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
			t.Fatal(err)
		}
		if !ssl {
			t.Fatalf("%q: the connection does not use TLS", dsn)
		}
	}
	assertTLS(dsn)
	assertTLS(strings.Replace(dsn, "sslmode=require", "sslmode=verify-full", 1) + "&sslrootcert=" + srv.RootCertFile())
	setEnv(t, srv.Env("postgres"))
	assertTLS("")

	// The socket has no TLS, and needs none.
	connect(t, srv.SocketDSN("postgres"))
}

// setEnv sets the variables of env ("NAME=value") for the test.
func setEnv(t *testing.T, env []string) {
	t.Helper()
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("%q is not NAME=value", kv)
		}
		t.Setenv(name, value)
	}
}

// TestEnv connects as a child process would, through the libpq variables.
func TestEnv(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	setEnv(t, srv.Env(db))
	conn := connect(t, "")
	var got string
	if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != db {
		t.Fatalf("connected to %q, want %q", got, db)
	}
}

func TestShared(t *testing.T) {
	t.Parallel()
	srv := pgtest.Shared(t)
	if again := pgtest.Shared(t); again != srv {
		t.Fatal("Shared returned two servers")
	}
	a, b := srv.NewDatabase(t), srv.NewDatabase(t)
	if a == b {
		t.Fatalf("NewDatabase returned %q twice", a)
	}
	execSQL(t, connect(t, srv.DSN(a)), "CREATE TABLE e (id bigint)")
	if err := connect(t, srv.DSN(b)).QueryRow(t.Context(), "SELECT count(*) FROM e").Scan(new(int)); err == nil {
		t.Fatal("a table of one test's database is visible in another's")
	}
	for name, f := range map[string]func() error{
		"Kill":    srv.Kill,
		"Stop":    srv.Stop,
		"Close":   srv.Close,
		"Restart": func() error { return srv.Restart(t.Context()) },
	} {
		if err := f(); !errors.Is(err, pgtest.ErrShared) {
			t.Errorf("%s on the shared server: %v, want ErrShared", name, err)
		}
	}
}

func TestCloseRemovesEverything(t *testing.T) {
	t.Parallel()
	srv, err := pgtest.StartServer(t.Context(), pgtest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir, pid := srv.Dir(), srv.PID()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, dir, pid)
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := srv.Restart(t.Context()); !errors.Is(err, pgtest.ErrClosed) {
		t.Fatalf("Restart after Close: %v, want ErrClosed", err)
	}

	// After a kill, Close has no server to stop but a directory to remove.
	srv, err = pgtest.StartServer(t.Context(), pgtest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir, pid = srv.Dir(), srv.PID()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, dir, pid)
}

// assertGone fails unless dir is gone and pid has exited.
func assertGone(t *testing.T, dir string, pid int) {
	t.Helper()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after cleanup (%v)", dir, err)
	}
	if alive(t, pid) {
		t.Errorf("postmaster %d still running after cleanup", pid)
	}
}

// cleanupChildEnv makes TestCleanupChild, run in a child process by
// TestCleanupOnFailure and TestParentDeathKillsServer, start a server,
// print "server <dir> <pid>", and then fail ("fail"), panic ("panic") or
// wait to be killed ("die").
const cleanupChildEnv = "PGTEST_CLEANUP_CHILD"

func TestCleanupChild(t *testing.T) {
	how := os.Getenv(cleanupChildEnv)
	if how == "" {
		t.Skip("run by TestCleanupOnFailure and TestParentDeathKillsServer")
	}
	srv := pgtest.Start(t)
	fmt.Printf("server %s %d\n", srv.Dir(), srv.PID())
	switch how {
	case "fail":
		t.Fatal("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	case "die":
		select {
		case <-time.After(time.Minute):
			t.Fatal("not killed within a minute")
		case <-t.Context().Done():
		}
	}
}

// TestCleanupOnFailure checks that a test that fails or panics still
// leaves no server and no directory behind.
func TestCleanupOnFailure(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"fail", "panic"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCleanupChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), cleanupChildEnv+"="+how)
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) {
				t.Fatalf("the child did not fail (%v):\n%s", err, out)
			}
			var dir string
			var pid int
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				if n, _ := fmt.Sscanf(sc.Text(), "server %s %d", &dir, &pid); n == 2 {
					break
				}
			}
			if pid == 0 {
				t.Fatalf("the child did not start a server:\n%s", out)
			}
			assertGone(t, dir, pid)
		})
	}
}

func TestSettingsMayNotMoveTheServer(t *testing.T) {
	t.Parallel()
	_, err := pgtest.StartServer(t.Context(), pgtest.Config{Settings: map[string]string{"port": "5432"}})
	if err == nil || !strings.Contains(err.Error(), "port") {
		t.Fatalf("StartServer with Settings[port]: %v, want an error naming port", err)
	}
}

func TestNotInstalled(t *testing.T) {
	_, err := pgtest.StartServer(t.Context(), pgtest.Config{BinDir: t.TempDir()})
	if !errors.Is(err, pgtest.ErrNotInstalled) || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("StartServer with an empty BinDir: %v, want ErrNotInstalled and make deps", err)
	}
	t.Setenv(pgtest.BinDirEnv, t.TempDir())
	_, err = pgtest.StartServer(t.Context(), pgtest.Config{})
	if !errors.Is(err, pgtest.ErrNotInstalled) || !strings.Contains(err.Error(), pgtest.BinDirEnv) {
		t.Fatalf("StartServer with an empty %s: %v, want ErrNotInstalled naming it", pgtest.BinDirEnv, err)
	}
}

// sharedChildEnv makes TestSharedDatabase, run again in a child process,
// write a row to the database it is given and print the DSN.
const sharedChildEnv = "PGTEST_SHARED_DATABASE_CHILD"

// TestSharedDatabase: a child process that runs the test again reaches the
// parent's database through SharedDatabase (it sees the parent's table and
// writes to it), and the variable is set while the test runs.
func TestSharedDatabase(t *testing.T) {
	dsn := pgtest.SharedDatabase(t)
	if os.Getenv(sharedChildEnv) != "" {
		execSQL(t, connect(t, dsn), "INSERT INTO child_rows VALUES (1)")
		fmt.Printf("child dsn %s\n", dsn)
		return
	}
	if got := pgtest.SharedDatabase(t); got != dsn {
		t.Fatalf("SharedDatabase returned %q, then %q", dsn, got)
	}
	conn := connect(t, dsn)
	execSQL(t, conn, "CREATE TABLE child_rows (n int)")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSharedDatabase$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), sharedChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "child dsn "+dsn+"\n") {
		t.Fatalf("the child did not use %s:\n%s", dsn, out)
	}
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM child_rows").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d rows written by the child, want 1", n)
	}
	if key := pgtest.SharedDSNEnv(t.Name()); os.Getenv(key) != dsn {
		t.Fatalf("%s is %q while the test runs, want %q", key, os.Getenv(key), dsn)
	}
}

// TestRelativeBaseDir starts a server under a relative Config.BaseDir: the
// server runs as another user in another working directory, so the
// package must resolve the directory against the caller's.
func TestRelativeBaseDir(t *testing.T) {
	parent := t.TempDir()
	for _, d := range []string{filepath.Dir(parent), parent} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(parent)
	if err := os.Mkdir("rel", 0o755); err != nil {
		t.Fatal(err)
	}
	srv, err := pgtest.StartServer(t.Context(), pgtest.Config{BaseDir: "rel", Logf: t.Logf})
	if err != nil {
		t.Fatalf("StartServer under a relative BaseDir: %v", err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	if !filepath.IsAbs(srv.Dir()) || filepath.Dir(srv.Dir()) != filepath.Join(parent, "rel") {
		t.Fatalf("the server's directory is %s, want one in %s", srv.Dir(), filepath.Join(parent, "rel"))
	}
	if n := count(t, connect(t, srv.DSN("postgres")), "pg_database"); n < 1 {
		t.Fatalf("pg_database has %d rows", n)
	}
}
