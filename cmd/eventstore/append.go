package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/durablelog/eventstore"
	"github.com/spf13/cobra"
)

type appendOptions struct {
	stream   string
	typ      string
	data     string
	dataFile string
	id       string
	meta     []string
	expected string
}

const appendLong = `Append events to one stream, atomically: all of them or none.

With --type, the command appends one event made of the flags. Without it, it
reads the events from stdin as JSON, one object per line:

  {"type": "Deposited", "id": "d-17", "data": {"amount": 100}, "metadata": {"source": "cli"}}

"type" is required. "data" is any JSON value, stored as its JSON text; for
bytes that are not JSON, give "data_base64" instead. "id" and "metadata" are
optional. Every line goes to --stream, in one append.

--expected-version is the optimistic-concurrency check: "any" (the default),
"exists" (the stream has events), "none" or 0 (the stream is empty), or the
exact version the stream must be at. On a mismatch nothing is written and the
command exits with code 4, saying the stream's version.

A directory without a store gets a new one, of --backend (default rocksdb).`

const appendExample = `  eventstore append -d data/events -s account-1 -t AccountOpened --id a1-1 --data '{"owner":"ada"}' -e none
  eventstore append -d data/events -s account-1 -t Deposited --data '{"amount":100}' --meta source=cli -e 1
  printf '%s\n' '{"type":"Deposited","data":{"amount":5}}' '{"type":"Withdrawn","data":{"amount":2}}' |
    eventstore append -d data/events -s account-1 --json`

func newAppendCmd(a *app) *cobra.Command {
	var o appendOptions
	c := &cobra.Command{
		Use:     "append --stream STREAM [--type TYPE --data DATA | < events.jsonl]",
		Short:   "Append events to a stream, from flags or JSON lines on stdin",
		Long:    appendLong,
		Example: appendExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runAppend(c.Context(), a, o)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.stream, "stream", "s", "", "the stream to append to (required)")
	f.StringVarP(&o.typ, "type", "t", "", "the event's type; without it the events come from stdin as JSON lines")
	f.StringVar(&o.data, "data", "", "the event's data, as given")
	f.StringVar(&o.dataFile, "data-file", "", "read the event's data from this file ('-' for stdin)")
	f.StringVar(&o.id, "id", "", "the event's id, unique in the stream: it makes a retry of the append safe")
	f.StringArrayVar(&o.meta, "meta", nil, "metadata KEY=VALUE, repeatable")
	f.StringVarP(&o.expected, "expected-version", "e", "any", "the stream's expected version: any, exists, none, or a number")
	return c
}

// parseExpected parses --expected-version.
func parseExpected(s string) (eventstore.ExpectedVersion, error) {
	switch strings.ToLower(s) {
	case "any", "":
		return eventstore.Any, nil
	case "exists", "stream-exists":
		return eventstore.StreamExists, nil
	case "none", "no-stream", "nostream":
		return eventstore.NoStream, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, usageErrorf("--expected-version %q: use any, exists, none, or the stream's version (0 for none)", s)
	}
	return eventstore.ExpectedVersion(n), nil
}

// appendResult is append's --json output.
type appendResult struct {
	Stream  string `json:"stream"`
	Events  int    `json:"events"`
	First   uint64 `json:"first"`
	Last    uint64 `json:"last"`
	Version uint64 `json:"version"`
}

// conflictResult is append's --json output on a wrong expected version.
type conflictResult struct {
	Error    string `json:"error"`
	Stream   string `json:"stream"`
	Expected int64  `json:"expected"`
	Actual   uint64 `json:"actual"`
}

func runAppend(ctx context.Context, a *app, o appendOptions) (err error) {
	if _, err := a.useTempDir(); err != nil {
		return err
	}
	if err := a.requireDir(); err != nil {
		return err
	}
	if o.stream == "" {
		return usageErrorf("--stream is required")
	}
	expected, err := parseExpected(o.expected)
	if err != nil {
		return err
	}
	events, err := o.events(a.stdin)
	if err != nil {
		return err
	}
	exists, err := isStore(a.dir)
	if err != nil {
		return err
	}
	name := a.backend
	if !exists {
		if name == "" {
			name = eventstore.DefaultBackend
		}
		if err := durableBackend(name); err != nil {
			return err
		}
	}
	s, err := a.openDir(ctx, a.dir, name)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	res, err := s.Append(ctx, o.stream, expected, events...)
	var wrong *eventstore.WrongExpectedVersionError
	if errors.As(err, &wrong) && a.json {
		if jerr := a.printJSON(conflictResult{Error: "wrong_expected_version", Stream: wrong.Stream, Expected: int64(wrong.Expected), Actual: wrong.Actual}); jerr != nil {
			return jerr
		}
	}
	if wrong != nil {
		return fmt.Errorf("%w; nothing was written: read the stream and decide again, then append with --expected-version %d", err, wrong.Actual)
	}
	if errors.Is(err, eventstore.ErrInvalidEvent) || errors.Is(err, eventstore.ErrEventTooLarge) {
		return withCode(exitUsage, err)
	}
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(appendResult{Stream: o.stream, Events: len(events), First: uint64(res.First), Last: uint64(res.Last), Version: res.Version})
	}
	a.printf("appended %d event(s) to %s: offsets %d-%d, stream version %d\n", len(events), o.stream, res.First, res.Last, res.Version)
	return nil
}

// events returns the events of the command line, or of stdin.
func (o appendOptions) events(stdin io.Reader) ([]eventstore.Event, error) {
	if o.typ == "" {
		if o.data != "" || o.dataFile != "" || o.id != "" || len(o.meta) > 0 {
			return nil, usageErrorf("--data, --data-file, --id and --meta describe one event and need --type; without --type, events come from stdin as JSON lines")
		}
		if isTerminal(stdin) {
			return nil, usageErrorf("give --type (and --data) for one event, or pipe JSON lines on stdin (see 'eventstore append --help')")
		}
		return readEvents(stdin)
	}
	e := eventstore.Event{Type: o.typ, ID: o.id, Data: []byte(o.data)}
	switch {
	case o.data != "" && o.dataFile != "":
		return nil, usageErrorf("give --data or --data-file, not both")
	case o.dataFile == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read the data from stdin: %w", err)
		}
		e.Data = b
	case o.dataFile != "":
		b, err := os.ReadFile(o.dataFile)
		if err != nil {
			return nil, fmt.Errorf("read --data-file: %w", err)
		}
		e.Data = b
	}
	for _, kv := range o.meta {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--meta %q: write KEY=VALUE", kv)
		}
		if e.Metadata == nil {
			e.Metadata = map[string]string{}
		}
		e.Metadata[k] = v
	}
	return []eventstore.Event{e}, nil
}

// jsonEvent is one event on append's stdin.
type jsonEvent struct {
	Type       string            `json:"type"`
	ID         string            `json:"id"`
	Data       json.RawMessage   `json:"data"`
	DataBase64 []byte            `json:"data_base64"`
	Metadata   map[string]string `json:"metadata"`
}

// readEvents decodes JSON events from r: one object per line (or any
// whitespace between objects).
func readEvents(r io.Reader) ([]eventstore.Event, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var events []eventstore.Event
	for n := 1; ; n++ {
		var je jsonEvent
		err := dec.Decode(&je)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, usageErrorf("stdin, event %d: %v: write one JSON object per line, such as {\"type\":\"T\",\"data\":{...}}", n, err)
		}
		if je.Type == "" {
			return nil, usageErrorf("stdin, event %d: \"type\" is missing", n)
		}
		e := eventstore.Event{Type: je.Type, ID: je.ID, Metadata: je.Metadata}
		switch {
		case je.Data != nil && je.DataBase64 != nil:
			return nil, usageErrorf("stdin, event %d: give \"data\" or \"data_base64\", not both", n)
		case je.DataBase64 != nil:
			e.Data = je.DataBase64
		case je.Data != nil:
			e.Data = []byte(je.Data)
		}
		events = append(events, e)
	}
	if len(events) == 0 {
		return nil, usageErrorf("no events on stdin: give --type for one event, or pipe JSON lines")
	}
	return events, nil
}
