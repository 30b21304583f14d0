package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// storeLabel is the value of the store label of the example's metrics.
const storeLabel = "paymentchannel"

// shutdownTimeout bounds how long Close waits for the scrapes in progress.
const shutdownTimeout = 5 * time.Second

// metricsServer serves the store's metrics, with the Go runtime's and the
// process's, at /metrics.
type metricsServer struct {
	srv  *http.Server
	addr string     // the address it listens on, with the port chosen
	done chan error // Serve's result
}

// serveMetrics listens on addr ("host:port"; port 0 picks a free one) and
// serves /metrics from a registry of its own, holding the store's collector
// and the Go and process collectors. It returns once the listener is open:
// a scrape of Addr succeeds from then on.
func serveMetrics(store *eventstore.Store, addr string) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	if err := errors.Join(
		reg.Register(prommetrics.NewCollector(store, prommetrics.WithStoreLabel(storeLabel))),
		reg.Register(collectors.NewGoCollector()),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	); err != nil {
		return nil, fmt.Errorf("register the collectors: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	m := &metricsServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { m.done <- m.srv.Serve(ln) }()
	return m, nil
}

// URL is the address of the metrics page; a server listening on every
// interface (":9090") is shown at localhost.
func (m *metricsServer) URL() string {
	host, port, err := net.SplitHostPort(m.addr)
	if err != nil {
		return "http://" + m.addr + "/metrics"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/metrics"
}

// Close stops the server: it closes the listener, lets the scrapes in
// progress finish (for up to shutdownTimeout) and waits for the serving
// goroutine to return.
func (m *metricsServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	if err != nil { // a scrape outlived the timeout: cut it
		err = errors.Join(err, m.srv.Close())
	}
	if serr := <-m.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
