package prommetrics

import "github.com/prometheus/client_golang/prometheus"

// descs describes every metric the collector exports.
type descs struct {
	appends, events, bytes, conflicts, retries, appendErrors          *prometheus.Desc
	appendDuration, commitDuration, groupEvents, groupAppends         *prometheus.Desc
	queueDepth, head, generation, failed                              *prometheus.Desc
	snapshots, snapshotFailures, snapshotDuration, snapshotSize       *prometheus.Desc
	lastSnapshot, recoveryDuration, recoveryReplayed, recoverySkipped *prometheus.Desc
	subscribers, subscriberLag, subscriberLagMax                      *prometheus.Desc
}

func newDescs(labels prometheus.Labels) descs {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("eventstore_"+name, help, nil, labels)
	}
	return descs{
		appends:          d("appends_total", "Append calls that succeeded, recognised retries included."),
		events:           d("events_appended_total", "Events committed (a recognised retry writes none; imported events count)."),
		bytes:            d("appended_bytes_total", "Data and metadata bytes of the events committed."),
		conflicts:        d("conflicts_total", "Appends refused with a wrong expected version."),
		retries:          d("retries_total", "Appends recognised as retries of earlier ones (idempotent by event ids), which wrote nothing."),
		appendErrors:     d("append_errors_total", "Appends that failed otherwise: invalid input, a closed or failed store, a done context, a failed commit."),
		appendDuration:   d("append_duration_seconds", "Time from the call of Append to its return."),
		commitDuration:   d("commit_duration_seconds", "Time the storage took to write and sync one group commit."),
		groupEvents:      d("commit_group_events", "Events carried by one group commit."),
		groupAppends:     d("commit_group_appends", "Appends carried by one group commit."),
		queueDepth:       d("append_queue_depth", "Appends waiting for the committer."),
		head:             d("head_offset", "Offset of the last published event."),
		generation:       d("generation", "The store's generation: it increases when recovery finds that the log lost events."),
		failed:           d("failed", "1 once the store stopped after a failed write, fsync or state-machine Apply; it refuses appends until reopened."),
		snapshots:        d("snapshots_total", "Snapshots written since Open."),
		snapshotFailures: d("snapshot_failures_total", "Snapshots that failed since Open."),
		snapshotDuration: d("snapshot_duration_seconds", "Time one snapshot took, from the state machine's Snapshot to the durable rename."),
		snapshotSize:     d("snapshot_size_bytes", "Size of the snapshot files written."),
		lastSnapshot:     d("last_snapshot_offset", "Offset of the newest durable snapshot, 0 when none."),
		recoveryDuration: d("recovery_duration_seconds", "How long the last Open took."),
		recoveryReplayed: d("recovery_replayed_events", "Events the last Open replayed into the state machine."),
		recoverySkipped:  d("recovery_skipped_snapshots", "Snapshots the last Open passed over."),
		subscribers:      d("subscribers", "Subscribe iterations running."),
		subscriberLag:    d("subscriber_lag_events", "How far each running subscription is behind the head, in events, at the time of the scrape (not cumulative: read it without rate())."),
		subscriberLagMax: d("subscriber_lag_max_events", "How far the slowest running subscription is behind the head, in events."),
	}
}

// all returns every description.
func (d *descs) all() []*prometheus.Desc {
	return []*prometheus.Desc{
		d.appends, d.events, d.bytes, d.conflicts, d.retries, d.appendErrors,
		d.appendDuration, d.commitDuration, d.groupEvents, d.groupAppends,
		d.queueDepth, d.head, d.generation, d.failed,
		d.snapshots, d.snapshotFailures, d.snapshotDuration, d.snapshotSize,
		d.lastSnapshot, d.recoveryDuration, d.recoveryReplayed, d.recoverySkipped,
		d.subscribers, d.subscriberLag, d.subscriberLagMax,
	}
}
