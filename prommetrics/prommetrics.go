// Package prommetrics exports an event store's metrics (eventstore.Metrics)
// to Prometheus, in the manner of client_golang's
// collectors.NewDBStatsCollector: the store keeps plain counters with no
// dependency, and this package turns each snapshot into Prometheus metrics
// when the registry is scraped.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(prommetrics.NewCollector(store))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every metric has the prefix eventstore_ and the label store: the base
// name of the store's directory unless WithStoreLabel names it, so that
// several stores of one process are told apart. docs/operations.md lists the
// metrics, what a healthy value looks like and the alerts worth setting.
package prommetrics

import (
	"path/filepath"

	"github.com/durablelog/eventstore"
	"github.com/prometheus/client_golang/prometheus"
)

// Option configures NewCollector.
type Option func(*collector)

// WithStoreLabel sets the value of the store label. The default is the base
// name of the store's directory.
func WithStoreLabel(name string) Option {
	return func(c *collector) { c.label = name }
}

// NewCollector returns a collector of store's metrics. Register it once per
// store; two stores need different store labels.
func NewCollector(store *eventstore.Store, opts ...Option) prometheus.Collector {
	c := &collector{store: store, label: filepath.Base(store.Dir())}
	for _, o := range opts {
		o(c)
	}
	c.descs = newDescs(prometheus.Labels{"store": c.label})
	return c
}

type collector struct {
	store *eventstore.Store
	label string
	descs descs
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs.all() {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one snapshot of the store's
// metrics per scrape.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := c.store.Metrics()
	d := &c.descs
	counter := func(desc *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v))
	}
	gauge := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
	}
	histogram := func(desc *prometheus.Desc, h eventstore.Histogram) {
		buckets := make(map[float64]uint64, len(h.Bounds))
		for i, b := range h.Bounds {
			buckets[b] = h.Counts[i]
		}
		ch <- prometheus.MustNewConstHistogram(desc, h.Count, h.Sum, buckets)
	}
	counter(d.appends, m.Appends)
	counter(d.events, m.EventsAppended)
	counter(d.bytes, m.BytesAppended)
	counter(d.conflicts, m.Conflicts)
	counter(d.retries, m.Retries)
	counter(d.appendErrors, m.AppendErrors)
	histogram(d.appendDuration, m.AppendDuration)
	histogram(d.commitDuration, m.CommitDuration)
	histogram(d.groupEvents, m.CommitGroupEvents)
	histogram(d.groupAppends, m.CommitGroupAppends)
	gauge(d.queueDepth, float64(m.AppendQueueDepth))
	gauge(d.head, float64(m.Head))
	gauge(d.generation, float64(m.Generation))
	failed := 0.0
	if m.Failed {
		failed = 1
	}
	gauge(d.failed, failed)
	counter(d.snapshots, m.SnapshotsTaken)
	counter(d.snapshotFailures, m.SnapshotsFailed)
	histogram(d.snapshotDuration, m.SnapshotDuration)
	histogram(d.snapshotSize, m.SnapshotBytes)
	gauge(d.lastSnapshot, float64(m.LastSnapshot))
	gauge(d.recoveryDuration, m.RecoveryDuration.Seconds())
	gauge(d.recoveryReplayed, float64(m.RecoveryReplayed))
	gauge(d.recoverySkipped, float64(m.RecoverySkippedSnapshots))
	gauge(d.subscribers, float64(m.Subscribers))
	histogram(d.subscriberLag, m.SubscriberLag)
	gauge(d.subscriberLagMax, float64(m.SubscriberLagMax))
}
