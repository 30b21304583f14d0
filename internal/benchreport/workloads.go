package benchreport

import (
	"slices"

	"github.com/durablelog/eventstore/backends/postgres"
	"github.com/durablelog/eventstore/benchsuite"
	"github.com/durablelog/eventstore/benchsuite/peers"
	"github.com/durablelog/eventstore/benchsuite/rocksloop"
)

// DefaultWorkloads returns the workloads that Run runs when
// Config.Workloads is nil, in report order: benchsuite.All(), with the
// plain grocksdb iterator loop (package rocksloop) after raw/scan; then
// the peers of package peers, the physical limit first; and, when
// "postgres" is among backends, the plain pgx baselines and the
// multi-process workload (ProcessesWorkload), whose children are started
// with childCommand.
func DefaultWorkloads(backends, childCommand []string) []benchsuite.Workload {
	var ws []benchsuite.Workload
	for _, w := range benchsuite.All() {
		ws = append(ws, w)
		if w.Name == benchsuite.RawScan.Name {
			ws = append(ws, rocksloop.Scan)
		}
	}
	ws = append(ws, peers.AllWorkloads()...)
	if slices.Contains(backends, postgres.Name) {
		ws = append(ws, peers.PgxWorkloads()...)
		ws = append(ws, ProcessesWorkload(Processes, ProcessWriters, childCommand))
	}
	return ws
}

// peerNames lists the names under which the peers are reported, the
// physical limit first.
func peerNames() []string {
	var names []string
	for _, p := range peers.All() {
		names = append(names, p.Name)
	}
	return append(names, peers.PgxName)
}
