package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/durablelog/eventstore"
)

// Exit codes. Scripts may rely on them; docs/cli.md lists them too.
const (
	// exitOK: the command did what it was asked.
	exitOK = 0
	// exitError: any other failure (I/O, a failed store, ...). The message
	// on stderr says what to do.
	exitError = 1
	// exitUsage: the command line is wrong: unknown command or flag, a
	// missing or invalid value, an unknown engine, or an operation the
	// command cannot do (snapshot create).
	exitUsage = 2
	// exitCorrupt: corruption detected: a record, an index entry or a
	// snapshot failed its checks (verify, read, stat), or a dump or a
	// backup is damaged or truncated (import, restore). Nothing damaged was
	// imported.
	exitCorrupt = 3
	// exitConflict: append's expected version did not match the stream's;
	// nothing was written.
	exitConflict = 4
	// exitLocked: another process (the application, or another eventstore
	// command) has the store open; retry later or raise --lock-wait.
	exitLocked = 5
	// exitWrongDir: the directory is not what the command needs: no store
	// where one is needed, a store of another engine than --backend, or a
	// destination that is not empty.
	exitWrongDir = 6
	// exitInterrupted: SIGINT or SIGTERM stopped the command (128+SIGINT).
	exitInterrupted = 130
)

// codedError carries an exit code.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// withCode attaches an exit code to err.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// usageErrorf returns a usage error (exitUsage).
func usageErrorf(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// Errors of the command, mapped to exit codes by exitCode.
var (
	// errNoStore: the directory holds no store.
	errNoStore = eventstore.ErrNoStore
	// errNotEmpty: a destination is not empty.
	errNotEmpty = errors.New("not empty")
	// errReported: the command printed its failure already; main prints
	// nothing more, and exits with the attached code.
	errReported = errors.New("reported")
)

// exitCode maps the error a command returned to the process's exit code.
func exitCode(ctx context.Context, err error) int {
	var ce *codedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		return ce.code
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, ctx.Err())):
		return exitInterrupted
	case errors.Is(err, eventstore.ErrCorrupt):
		return exitCorrupt
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		return exitConflict
	case errors.Is(err, eventstore.ErrLocked):
		return exitLocked
	case errors.Is(err, eventstore.ErrBackendMismatch), errors.Is(err, errNoStore), errors.Is(err, errNotEmpty):
		return exitWrongDir
	case errors.Is(err, eventstore.ErrUnknownBackend), isCobraUsage(err):
		return exitUsage
	}
	if ctx.Err() != nil {
		return exitInterrupted
	}
	return exitError
}

// isCobraUsage recognises the argument errors cobra makes itself.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "required flag", "accepts ", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}
