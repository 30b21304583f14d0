package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/spf13/cobra"
)

// app holds the global flags and the process's standard streams.
type app struct {
	dir      string
	backend  string
	json     bool
	progress string
	lockWait time.Duration
	cpuProf  string
	profFile *os.File

	// The PostgreSQL backend: --dsn and --schema, and whether either was
	// given; pgTarget: they name the destination of migrate or import,
	// not the store in --dir; pgPoll: PollInterval (read --follow).
	dsn, schema string
	pgFlags     bool
	pgTarget    bool
	pgPoll      time.Duration
	// temps are the temporary directories to remove at exit; temporary:
	// --dir is one of them (see pg.go).
	temps     []string
	temporary bool

	stdin          io.Reader
	stdout, stderr io.Writer
}

const rootLong = `eventstore looks inside, checks, copies and moves the stores of
github.com/durablelog/eventstore, an embedded durable event log.

Every command takes --dir, the store's directory (or $EVENTSTORE_DIR), and
--backend, the engine: rocksdb, pebble, badger, sqlite, memory or postgres
(or $EVENTSTORE_BACKEND). A store records its engine in the directory, so
--backend is needed only to create a store, and a --backend that differs from
the directory's is an error (exit code 6), never a second store beside it.

A store on an embedded engine has one owner process at a time. While the
application has its store open, commands that open it wait --lock-wait and
then fail with exit code 5; for an online copy, call Store.Backup in the
application.

A store on PostgreSQL (--backend postgres) lives in a schema (--schema) of
the server that --dsn names (default: the PG* environment variables, as for
psql). Several processes share it, so commands run while applications
write. Each process keeps a local directory of its own; without --dir, a
command uses a private temporary directory and removes it when it ends.

Exit codes:
  0    ok
  1    error
  2    usage: unknown command or flag, bad value, unknown engine
  3    corruption detected (store, snapshot, dump or backup); nothing damaged
       was imported
  4    append: wrong expected version; nothing was written
  5    the store is in use by another process
  6    wrong directory: no store there, a store of another engine, or a
       destination that is not empty
  130  interrupted (SIGINT, SIGTERM)

Commands that print a result take --json for one JSON document (read: one
JSON object per line). Long operations show a progress bar on stderr with rate
and ETA when stdout and stderr are terminals (--progress).`

const rootExample = `  # Append an event, creating a RocksDB store, then read the log.
  eventstore append --dir data/events --stream account-1 --type Deposited --data '{"amount":100}'
  eventstore read --dir data/events

  # Follow new events like tail -f, as JSON lines.
  eventstore read --dir data/events --follow --json

  # Check every record and index; exit code 3 and the location on damage.
  eventstore verify --dir data/events

  # Copy the store into Pebble, checking every record and the content hash.
  eventstore migrate --dir data/events --to pebble --dest data/events-pebble

  # Move it into PostgreSQL, then look at it there while applications write.
  eventstore migrate --dir data/events --to postgres --dsn postgres://app@db/orders --schema orders
  eventstore stat --backend postgres --dsn postgres://app@db/orders --schema orders`

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "eventstore",
		Short:         "Inspect, follow, verify, export, import, migrate and back up event stores",
		Long:          rootLong,
		Example:       rootExample,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE:          needSubcommand,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	pf := root.PersistentFlags()
	pf.StringVarP(&a.dir, "dir", "d", os.Getenv("EVENTSTORE_DIR"), "the store's directory (default $EVENTSTORE_DIR)")
	pf.StringVarP(&a.backend, "backend", "b", os.Getenv("EVENTSTORE_BACKEND"),
		"the engine: rocksdb, pebble, badger, sqlite, memory or postgres (default: the engine the directory records; rocksdb for a new store; $EVENTSTORE_BACKEND)")
	pf.StringVar(&a.dsn, "dsn", "", dsnHelp)
	pf.StringVar(&a.schema, "schema", postgres.DefaultSchema, schemaHelp)
	pf.BoolVar(&a.json, "json", false, "print the result as JSON, for scripts")
	pf.StringVar(&a.progress, "progress", "auto", "progress bars on stderr: auto (when stdout and stderr are terminals), always or never")
	pf.DurationVar(&a.lockWait, "lock-wait", 5*time.Second, "how long to wait for a store that another process has open before failing with exit code 5")
	pf.StringVar(&a.cpuProf, "cpuprofile", "", "write a CPU profile of the command to this file")
	_ = pf.MarkHidden("cpuprofile")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%s: %v (see '%s --help')", commandName(c), err, c.CommandPath())
	})
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		switch a.progress {
		case "auto", "always", "never":
		default:
			return usageErrorf("--progress %q: use auto, always or never", a.progress)
		}
		a.pgFlags = c.Flags().Changed("dsn") || c.Flags().Changed("schema")
		return a.startProfile()
	}
	root.PersistentPostRun = func(*cobra.Command, []string) { a.stopProfile() }
	root.AddCommand(
		newAppendCmd(a),
		newReadCmd(a),
		newStatCmd(a),
		newVerifyCmd(a),
		newSnapshotCmd(a),
		newExportCmd(a),
		newImportCmd(a),
		newMigrateCmd(a),
		newBackupCmd(a),
		newRestoreCmd(a),
		newBenchCmd(a),
	)
	return root
}

// needSubcommand is the RunE of commands that only group subcommands.
func needSubcommand(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q (see '%s --help')", args[0], c.CommandPath(), c.CommandPath())
	}
	_ = c.Help()
	return usageErrorf("name a command (see '%s --help')", c.CommandPath())
}

// commandName is the command's path without the program's name.
func commandName(c *cobra.Command) string {
	if !c.HasParent() {
		return c.Name()
	}
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// noArgs rejects positional arguments as a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q: values go in flags (see '%s --help')", commandName(c), args, c.CommandPath())
	}
	return nil
}

// startProfile starts the CPU profile of --cpuprofile, if any.
func (a *app) startProfile() error {
	if a.cpuProf == "" {
		return nil
	}
	f, err := os.Create(a.cpuProf)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	a.profFile = f
	return nil
}

// stopProfile ends the CPU profile, if one runs.
func (a *app) stopProfile() {
	if a.profFile != nil {
		pprof.StopCPUProfile()
		_ = a.profFile.Close()
		a.profFile = nil
	}
}

// printf writes to stdout.
func (a *app) printf(format string, args ...any) {
	fmt.Fprintf(a.stdout, format, args...)
}

// warnf writes a note to stderr.
func (a *app) warnf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "eventstore: "+format+"\n", args...)
}
