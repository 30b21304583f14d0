package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/durablelog/eventstore"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The engines the demo is checked on: every engine it imports.
var engines = []string{"memory", "pebble", "rocksdb", "badger"}

func TestRun(t *testing.T) {
	want := []string{
		"append account-1 expecting NoStream -> offsets 1-2, version 2",
		"append account-2 expecting NoStream -> offsets 3-4, version 2",
		"append order-7   expecting NoStream -> offsets 5-6, version 2",
		"append account-1 expecting 2        -> offsets 7-8, version 4",
		`conflict rejected: eventstore: wrong expected version for stream "account-2": expected 1, stream is at 2`,
		"retry of the last append -> offsets 7-8, version 4; head is still 8",
		"closed",
		"log: 8 records, offsets 1-8",
		`  offset 8  account-1 v4  Deposited     id=a1-4 {"amount":25}`,
		"stream account-1: 4 events",
		"  metadata of account-1 v1: correlation-id=demo-a1-1 source=quickstart",
		"verify: ok: 8 records up to offset 8, 3 streams, 8 index entries, 8 ids",
		"recovery: engine %s, head 8, snapshot at offset 0, 0 events replayed, 0 snapshots skipped",
	}
	outputs := map[string]string{}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			var buf bytes.Buffer
			if err := run(context.Background(), &buf, t.TempDir(), engine); err != nil {
				t.Fatalf("run: %v\noutput:\n%s", err, buf.String())
			}
			got := buf.String()
			lines := strings.Split(got, "\n")
			for _, w := range append(want,
				"opened a new "+engine+" store",
				"reopened: the directory holds a "+engine+" store, head 8",
			) {
				w = strings.ReplaceAll(w, "%s", engine)
				if !slices.Contains(lines, w) {
					t.Errorf("the output lacks the line\n\t%s\noutput:\n%s", w, got)
				}
			}
			outputs[engine] = strings.ReplaceAll(got, engine, "ENGINE")
		})
	}
	// The output is the same on every engine, the engine's name aside.
	for _, engine := range engines[1:] {
		if a, b := outputs[engines[0]], outputs[engine]; a != "" && b != "" && a != b {
			t.Errorf("the output on %s differs from the output on %s:\n%s\n---\n%s", engine, engines[0], b, a)
		}
	}
}

func TestRunRefusesAnExistingStore(t *testing.T) {
	dir := t.TempDir()
	if err := run(context.Background(), io.Discard, dir, "memory"); err != nil {
		t.Fatalf("first run: %v", err)
	}
	err := run(context.Background(), io.Discard, dir, "memory")
	if err == nil || !strings.Contains(err.Error(), "already holds a store (head 8)") {
		t.Fatalf("second run on the same directory: got %v, want an error saying it already holds a store", err)
	}
}

func TestRunUnknownBackend(t *testing.T) {
	err := run(context.Background(), io.Discard, t.TempDir(), "no-such-engine")
	if !errors.Is(err, eventstore.ErrUnknownBackend) {
		t.Fatalf("got %v, want an error wrapping ErrUnknownBackend", err)
	}
}
