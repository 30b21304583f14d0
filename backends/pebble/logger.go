package pebble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	cpebble "github.com/cockroachdb/pebble/v2"
)

// slogLogger routes Pebble's log messages to an *slog.Logger. It implements
// pebble.Logger.
type slogLogger struct {
	l    *slog.Logger
	info slog.Level // level of Infof messages
}

func (s *slogLogger) logf(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	s.l.Log(ctx, level, fmt.Sprintf(format, args...))
}

// Infof logs an informational message at the configured level (by default
// slog.LevelDebug).
func (s *slogLogger) Infof(format string, args ...any) { s.logf(s.info, format, args) }

// Errorf logs an error at slog.LevelError.
func (s *slogLogger) Errorf(format string, args ...any) { s.logf(slog.LevelError, format, args) }

// Fatalf logs an error Pebble cannot recover from at slog.LevelError and
// panics with a fatalError, since Pebble carries on when Fatalf returns.
// Commit, Sync, Open and Close recover the panic and return it as an error.
func (s *slogLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.l.Error("fatal: "+msg, "fatal", true)
	fe := fatalError{msg: msg}
	for _, a := range args {
		if err, ok := a.(error); ok {
			fe.err = err
			break
		}
	}
	panic(fe)
}

// fatalError is the panic value of slogLogger.Fatalf. It wraps the first
// error among Fatalf's arguments, if any.
type fatalError struct {
	msg string
	err error
}

func (e fatalError) Error() string { return "pebble: fatal error: " + e.msg }

func (e fatalError) Unwrap() error { return e.err }

// catchFatal, deferred, turns a fatalError panic into *err; it lets any
// other panic continue.
func catchFatal(err *error) {
	r := recover()
	if r == nil {
		return
	}
	fe, ok := r.(fatalError)
	if !ok {
		panic(r)
	}
	*err = fe
}

// isFatal reports whether err comes from slogLogger.Fatalf.
func isFatal(err error) bool {
	var fe fatalError
	return errors.As(err, &fe)
}

// eventListener logs Pebble's events to logger: problems (background
// errors, data corruption, slow disks, low disk space) as errors, routine
// events (flushes, compactions, ...) as informational messages. Unlike
// Pebble's default, it reports data corruption as an error and not as a
// fatal error: the read that found it returns an error wrapping
// backend.ErrCorrupt.
func eventListener(logger cpebble.Logger) *cpebble.EventListener {
	l := cpebble.MakeLoggingEventListener(logger)
	l.DataCorruption = func(info cpebble.DataCorruptionInfo) {
		logger.Errorf("%s", info)
	}
	l.DiskSlow = func(info cpebble.DiskSlowInfo) {
		logger.Errorf("%s", info)
	}
	l.LowDiskSpace = func(info cpebble.LowDiskSpaceInfo) {
		logger.Errorf("%s", info)
	}
	return &l
}
