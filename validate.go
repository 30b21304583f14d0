package eventstore

import (
	"context"
	"fmt"
	"strings"
)

// validStream checks a stream name: 1 to 255 bytes, no NUL.
func validStream(stream string) error {
	switch {
	case stream == "":
		return fmt.Errorf("%w: the stream name is empty", ErrInvalidEvent)
	case len(stream) > MaxStreamNameLen:
		return fmt.Errorf("%w: the stream name has %d bytes, the limit is %d", ErrInvalidEvent, len(stream), MaxStreamNameLen)
	case strings.IndexByte(stream, 0) >= 0:
		return fmt.Errorf("%w: the stream name %q contains a NUL byte", ErrInvalidEvent, stream)
	}
	return nil
}

// validateAppend checks an append's input before anything is written.
func (s *Store) validateAppend(ctx context.Context, stream string, expected ExpectedVersion, events []Event) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if err := validStream(stream); err != nil {
		return err
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: append to stream %q has no events", ErrInvalidEvent, stream)
	}
	if expected < StreamExists {
		return fmt.Errorf("%w: expected version %d for stream %q: use Any (-1), StreamExists (-2), NoStream (0) or a version > 0", ErrInvalidEvent, expected, stream)
	}
	var ids map[string]int
	for i, e := range events {
		switch {
		case e.Type == "":
			return fmt.Errorf("%w: event %d of the append to stream %q has an empty Type", ErrInvalidEvent, i, stream)
		case len(e.Type) > MaxTypeLen:
			return fmt.Errorf("%w: event %d of the append to stream %q has a Type of %d bytes, the limit is %d", ErrInvalidEvent, i, stream, len(e.Type), MaxTypeLen)
		case len(e.ID) > MaxIDLen:
			return fmt.Errorf("%w: event %d of the append to stream %q has an ID of %d bytes, the limit is %d", ErrInvalidEvent, i, stream, len(e.ID), MaxIDLen)
		}
		size := len(e.Data)
		for k, v := range e.Metadata {
			size += len(k) + len(v)
		}
		if size > s.opts.maxEventSize {
			return fmt.Errorf("%w: event %d of the append to stream %q has %d bytes of data and metadata, the limit is %d (WithMaxEventSize)",
				ErrEventTooLarge, i, stream, size, s.opts.maxEventSize)
		}
		if e.ID == "" {
			continue
		}
		if ids == nil {
			ids = make(map[string]int, len(events))
		}
		if j, dup := ids[e.ID]; dup {
			return fmt.Errorf("%w: events %d and %d of the append to stream %q share the ID %q", ErrInvalidEvent, j, i, stream, e.ID)
		}
		ids[e.ID] = i
	}
	return nil
}
