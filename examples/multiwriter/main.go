// Command multiwriter shows several processes writing one event store in
// PostgreSQL, and a projection process following it.
//
// Three writer processes capture payments for a few merchant accounts at
// once. Each payment is a PaymentCaptured event in the account's stream
// that carries the account's new balance, so a writer must know the
// account's state before it appends: it appends with the exact version it
// read (ExpectedVersion), and when another writer got there first
// (ErrWrongExpectedVersion) it reads the account again and decides again.
// Every event has an ID, so a retry after an unknown outcome
// (ErrUnknownOutcome: the connection broke during the commit) writes the
// payment at most once.
//
// A projection process follows the log with Store.Subscribe and keeps the
// balance and the number of payments of every account, with its checkpoint
// (generation, offset) saved in the same file: it runs twice, and the
// second run resumes where the first one stopped.
//
//	go run ./examples/multiwriter/pgserver -- go run ./examples/multiwriter
//
// runs it all against a throwaway PostgreSQL server; see README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/backends/postgres"
)

// config is what every process of the example needs.
type config struct {
	dsn      string // "" : the PG* environment variables
	schema   string
	dir      string // the workspace: each process's local directory, the projection's file
	writers  int
	payments int // per writer
	accounts int
}

func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.dsn, "dsn", "", "the PostgreSQL server (default: the PG* environment variables)")
	fs.StringVar(&c.schema, "schema", "multiwriter", "the schema of the store; run uses it only when it does not exist or is empty")
	fs.StringVar(&c.dir, "dir", "", "the workspace: the processes' local directories and the projection's file (default: a new temporary directory)")
	fs.IntVar(&c.writers, "writers", 3, "writer processes")
	fs.IntVar(&c.payments, "payments", 40, "payments each writer captures")
	fs.IntVar(&c.accounts, "accounts", 4, "merchant accounts the payments go to")
}

// open opens the store in PostgreSQL with the local directory dir, which
// belongs to this process alone.
func (c config) open(dir string, opts ...eventstore.Option) (*eventstore.Store, error) {
	return eventstore.Open(dir, append([]eventstore.Option{eventstore.WithBackend(postgres.Name),
		eventstore.WithBackendConfig(postgres.Options{DSN: c.dsn, Schema: c.schema})}, opts...)...)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(command(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// command runs one of the example's commands: run (the default) starts the
// writers and the projection as processes of this program, write and
// project are those processes.
func command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "write" || args[0] == "project") {
		name, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("multiwriter "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.flags(fs)
	writer := fs.Int("writer", 0, "write: this writer's number, from 0")
	until := fs.Uint64("until", 0, "project: stop once the log is applied up to this offset (0: follow until interrupted)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || c.writers < 1 || c.payments < 0 || c.accounts < 1 {
		fmt.Fprintln(stderr, "multiwriter: bad arguments; see -help")
		return 2
	}
	var err error
	switch name {
	case "run":
		_, err = run(ctx, c, stdout)
	case "write":
		err = write(ctx, c, *writer, stdout)
	case "project":
		_, err = project(ctx, c, *until, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "multiwriter %s: %v\n", name, err)
		return 1
	}
	return 0
}
