// Command pgserver runs a throwaway PostgreSQL server for trying the
// examples, with the server programs of the machine (Debian's postgresql
// package, or any other that package internal/pgtest finds), in a new
// temporary directory that it removes when it stops.
//
// With a command, it starts the server, runs the command with the PG*
// environment variables pointing at it, then stops the server and exits
// with the command's exit code:
//
//	go run ./examples/multiwriter/pgserver -- go run ./examples/multiwriter
//
// Without one, it prints the variables as shell exports and keeps the
// server until it is interrupted (Ctrl-C):
//
//	go run ./examples/multiwriter/pgserver
//
// As root it runs the server as the system user postgres, which it creates
// when missing: PostgreSQL refuses to run as root.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/durablelog/eventstore/internal/pgtest"
)

// database is the database the variables name.
const database = "postgres"

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := pgtest.StartServer(ctx, pgtest.Config{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgserver: %v\n", err)
		os.Exit(1)
	}
	code := serve(ctx, srv, args)
	if err := srv.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "pgserver: stop the server: %v\n", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// serve runs the command against srv, or prints the variables and waits
// for ctx; it returns the exit code.
func serve(ctx context.Context, srv *pgtest.Server, args []string) int {
	env := srv.Env(database)
	if len(args) == 0 {
		fmt.Printf("# a throwaway PostgreSQL server, in %s; Ctrl-C stops and removes it\n", srv.Dir())
		for _, kv := range env {
			fmt.Printf("export %s\n", kv)
		}
		<-ctx.Done()
		return 0
	}
	fmt.Fprintf(os.Stderr, "pgserver: PostgreSQL on 127.0.0.1:%d, in %s; running %q\n", srv.Port(), srv.Dir(), args)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "pgserver: %v\n", err)
	return 1
}
