package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/durablelog/eventstore/internal/benchreport"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	// Each engine and log backend registers itself under its name when
	// imported; the command works on every one of them.
	_ "github.com/durablelog/eventstore/backends/badger"
	_ "github.com/durablelog/eventstore/backends/memory"
	_ "github.com/durablelog/eventstore/backends/pebble"
	_ "github.com/durablelog/eventstore/backends/postgres"
	_ "github.com/durablelog/eventstore/backends/rocksdb"
	_ "github.com/durablelog/eventstore/backends/sqlite"
)

func main() {
	// The benchmark report runs each memory workload in a child process:
	// this executable, started with benchreport.ChildArgs.
	if len(os.Args) > 2 && os.Args[1] == benchreport.ChildArgs[0] && os.Args[2] == benchreport.ChildArgs[1] {
		os.Exit(benchreport.ChildMain(os.Args[3:]))
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit code. SIGINT and
// SIGTERM cancel the command's context: long operations stop cleanly, close
// the store and exit with exitInterrupted (read --follow exits with exitOK).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	defer a.removeTemps()
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	code := exitCode(ctx, err)
	if err != nil && !errors.Is(err, errReported) {
		fmt.Fprintf(stderr, "eventstore: %s\n", message(err))
		if code == exitUsage && !strings.Contains(err.Error(), "--help") {
			fmt.Fprintf(stderr, "Run 'eventstore --help' or 'eventstore COMMAND --help' for usage.\n")
		}
	}
	return code
}

// message renders err for the user, without the "eventstore: " prefixes that
// wrapped errors of the library repeat.
func message(err error) string {
	return strings.ReplaceAll(err.Error(), "eventstore: ", "")
}
