package rocksloop_test

import (
	"context"
	"testing"

	_ "github.com/durablelog/eventstore/backends/rocksdb"
	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/benchsuite/rocksloop"
)

func TestScan(t *testing.T) {
	w := rocksloop.Scan
	if !w.RunsOn("rocksdb", true) || w.RunsOn("pebble", true) || w.RunsOn("rocksdb", false) {
		t.Errorf("RunsOn: %+v", w)
	}
	tg := benchsuite.Target{Backend: rocksloop.Engine, TempDir: func() (string, error) { return t.TempDir(), nil }}
	m, err := w.Run(context.Background(), tg, 2500)
	if err != nil {
		t.Fatal(err)
	}
	if m.Events != 2500 || m.Bytes < 2500*benchsuite.EventSize {
		t.Errorf("%+v", m)
	}
	if _, err := w.Run(context.Background(), benchsuite.Target{Backend: "pebble"}, 10); err == nil {
		t.Error("ran on pebble")
	}
}
