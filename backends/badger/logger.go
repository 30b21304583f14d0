package badger

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// levelTrace is below slog.LevelDebug: badger's Debugf reports every write
// request, which is too much even for debug logs.
const levelTrace = slog.LevelDebug - 4

// logAdapter implements badger.Logger on top of a *slog.Logger. Badger's
// errors and warnings keep their level; its Info chatter (table counts,
// compactions, replay progress) goes to Debug and its Debugf to levelTrace.
type logAdapter struct {
	l *slog.Logger
}

func newLogAdapter(l *slog.Logger, dir string) logAdapter {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return logAdapter{l: l.With("engine", Name, "dir", dir)}
}

func (a logAdapter) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !a.l.Enabled(ctx, level) {
		return // skip the formatting: badger logs on every write
	}
	a.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// Errorf logs at slog.LevelError.
func (a logAdapter) Errorf(format string, args ...any) { a.log(slog.LevelError, format, args) }

// Warningf logs at slog.LevelWarn.
func (a logAdapter) Warningf(format string, args ...any) { a.log(slog.LevelWarn, format, args) }

// Infof logs at slog.LevelDebug: badger's Info messages are routine.
func (a logAdapter) Infof(format string, args ...any) { a.log(slog.LevelDebug, format, args) }

// Debugf logs at levelTrace, below slog.LevelDebug.
func (a logAdapter) Debugf(format string, args ...any) { a.log(levelTrace, format, args) }
