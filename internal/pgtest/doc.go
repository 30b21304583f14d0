// Package pgtest runs throwaway PostgreSQL servers for the tests,
// benchmarks and torture runs of the PostgreSQL backend. Product code does
// not import it.
//
// Start gives a test a server of its own, in a temporary directory, and
// stops and removes it when the test ends:
//
//	srv := pgtest.Start(t)
//	conn, err := pgx.Connect(ctx, srv.DSN("postgres"))
//
// Shared gives every test of a test binary the same server, started on
// first use; pgtest.Main in TestMain stops it when the binary ends, before
// goleak looks for leaked goroutines:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(pgtest.Main(m)) }
//
// StartServer is the same without testing.TB, for benchmarks and child
// processes; its caller owns Close.
//
// # Finding the server programs
//
// A server needs initdb and postgres from one directory, found in this
// order: Config.BinDir; the directory named by the environment variable
// PGTEST_BINDIR; the directory on PATH that holds both (as on Fedora, Arch
// or Homebrew); the newest of /usr/lib/postgresql/*/bin (Debian and
// Ubuntu, where the server programs are not on PATH); the newest of
// /usr/pgsql-*/bin (the PGDG RPMs); /usr/local/pgsql/bin (a source
// build). When none has them, StartServer fails with ErrNotInstalled and
// tells to run make deps, which installs them with apt-get install
// postgresql. pg_ctl and pg_isready are not used.
//
// # Why the postgres user
//
// initdb and postgres refuse to run as root. When this process is root,
// the package runs them as the system user Config.User ("postgres" by
// default), which it creates with useradd --system when missing, and gives
// that user the temporary directory. It switches the user in the child
// process itself (syscall.Credential) instead of through runuser or su,
// which stay as the parent: so the process this package starts and owns is
// the postmaster, and Kill's SIGKILL reaches it. When this process is not
// root, the server runs as the current user.
//
// # The server
//
// initdb makes a cluster with trust authentication for the Unix socket
// and loopback TCP, the superuser Config.Superuser ("postgres"), UTF8 and
// the C locale. initdb runs with --no-sync: the tests crash processes, not
// the machine, and the server itself runs with fsync=on and
// synchronous_commit=on, so a commit that returned is on disk. The server
// listens on 127.0.0.1 at a free port (picked again when another process
// takes it first) and on a Unix socket in the temporary directory, with a
// small shared_buffers, max_connections = 200 and its log in
// postgres.log. Config.Settings adds or overrides settings. With
// Config.TLS it also accepts TLS, with a self-signed certificate made at
// start, and DSN asks for sslmode=require.
//
// Start waits until the server accepts a connection (polling with a
// deadline), not for a fixed time.
//
// # Crashes
//
// Kill sends SIGKILL to the postmaster and to every process it forked,
// like a crash of the whole server, and waits until they are gone. Restart
// starts the server again on the same directory and port; PostgreSQL
// recovers from its write-ahead log before it accepts connections.
// TerminateBackends ends clients' connections from the server side, to
// test a connection that breaks during a commit.
//
// # Cleaning up
//
// Close, which Start registers with tb.Cleanup and so runs when a test
// fails or panics too, stops the server (fast shutdown, then SIGKILL after
// Config.StopTimeout), removes the System V shared memory segment that a
// killed server leaves behind, and removes the temporary directory, which
// holds everything else: the cluster, the socket, the log, the
// certificate. Dynamic shared memory is kept in the data directory
// (dynamic_shared_memory_type = mmap) for that reason. The postmaster is
// started with a parent-death signal, so that a test binary that dies
// without cleaning up (a -timeout panic, a SIGKILL) takes its server with
// it; its directory stays behind in that case.
//
// Everything needs Linux: the child processes are found in /proc.
package pgtest
