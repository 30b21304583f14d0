package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// waitFor bounds every wait of these tests: for a line of output, for the
// server to answer, for the program to stop.
const waitFor = 30 * time.Second

// TestMetricsEndpoint runs the scenario in-process with -metrics on
// 127.0.0.1:0, twice on one directory. Once the scenario is done and the
// program serves until interrupted, it scrapes /metrics and checks the exact
// counts: the first run appends the 52 events of 4 channels, one group
// commit each; the second finds them committed, so its 52 appends are all
// recognised retries, it writes nothing, and its recovery replayed the 2
// events after the snapshot at offset 50. Cancelling the context stops the
// server before run returns.
func TestMetricsEndpoint(t *testing.T) {
	c := config{dir: t.TempDir(), backend: "pebble", channels: 4, crashChannel: 2, metrics: "127.0.0.1:0"}

	fams, url := runAndScrape(t, c)
	require.Equal(t, 52.0, value(t, fams, "eventstore_appends_total"), "one per step of the plan")
	require.Equal(t, 52.0, value(t, fams, "eventstore_events_appended_total"))
	require.Equal(t, 0.0, value(t, fams, "eventstore_retries_total"))
	require.Equal(t, 0.0, value(t, fams, "eventstore_conflicts_total"))
	require.Equal(t, 0.0, value(t, fams, "eventstore_append_errors_total"))
	require.Equal(t, 52.0, value(t, fams, "eventstore_head_offset"))
	require.Equal(t, 1.0, value(t, fams, "eventstore_generation"))
	require.Equal(t, 0.0, value(t, fams, "eventstore_failed"))
	require.Equal(t, uint64(52), histogram(t, fams, "eventstore_append_duration_seconds").GetSampleCount())
	// One writer, one append at a time: each append is a group commit of
	// its own.
	group := histogram(t, fams, "eventstore_commit_group_events")
	require.Equal(t, uint64(52), group.GetSampleCount())
	require.Equal(t, 52.0, group.GetSampleSum())
	require.Contains(t, fams, "go_goroutines", "the Go collector is registered")
	require.Contains(t, fams, "process_start_time_seconds", "the process collector is registered")
	requireStopped(t, url)

	fams, url = runAndScrape(t, c)
	require.Equal(t, 52.0, value(t, fams, "eventstore_appends_total"), "retries count as appends that succeeded")
	require.Equal(t, 52.0, value(t, fams, "eventstore_retries_total"))
	require.Equal(t, 0.0, value(t, fams, "eventstore_events_appended_total"), "a retry writes nothing")
	require.Equal(t, uint64(0), histogram(t, fams, "eventstore_commit_duration_seconds").GetSampleCount())
	require.Equal(t, 52.0, value(t, fams, "eventstore_head_offset"))
	require.Equal(t, 2.0, value(t, fams, "eventstore_recovery_replayed_events"))
	require.Equal(t, 0.0, value(t, fams, "eventstore_recovery_skipped_snapshots"))
	require.Equal(t, 50.0, value(t, fams, "eventstore_last_snapshot_offset"))
	requireStopped(t, url)
}

// runAndScrape runs the scenario of c in-process, scrapes /metrics once the
// program says it serves until interrupted, then cancels its context and
// requires it to return nil. It returns the metrics and the page's address.
func runAndScrape(t *testing.T, c config) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	result := make(chan error, 1)
	go func() {
		err := run(ctx, pw, c)
		pw.Close()
		result <- err
	}()
	lines := readLines(pr)
	defer func() { // also after a failed assertion: stop run and read its output to the end
		cancel()
		for range lines {
		}
	}()
	url := strings.TrimPrefix(waitLine(t, lines, "metrics: http://"), "metrics: ")
	waitLine(t, lines, "serving the metrics until interrupted")
	fams := scrape(t, url)
	cancel()
	waitLine(t, lines, "interrupted: stopping the metrics server and closing the store")
	select {
	case err := <-result:
		require.NoError(t, err)
	case <-time.After(waitFor):
		t.Fatal("run did not return after its context was cancelled")
	}
	return fams, url
}

// TestMetricsFlag builds the program and runs it with -metrics
// 127.0.0.1:0: the page answers once the address is printed, holds the exact
// count of the run's appends once the scenario is done, and SIGINT stops the
// server and the program, which exits with status 0.
func TestMetricsFlag(t *testing.T) {
	cmd := exec.Command(buildExample(t), "-dir", t.TempDir(), "-backend", "pebble", "-channels", "3", "-metrics", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	// A pipe of our own rather than StdoutPipe, so that Wait may run while
	// the output is still being read.
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close()
	require.NoError(t, err)
	lines := readLines(pr)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped { // a failed assertion: do not leave the program running
			_ = cmd.Process.Kill()
			<-exited
		}
		for range lines { // to the end of the output, which the exit closes
		}
	}()

	url := strings.TrimPrefix(waitLine(t, lines, "metrics: http://"), "metrics: ")
	waitServing(t, url)
	waitLine(t, lines, "serving the metrics until interrupted")
	fams := scrape(t, url)
	require.Equal(t, 39.0, value(t, fams, "eventstore_appends_total"), "13 appends per channel")
	require.Equal(t, 39.0, value(t, fams, "eventstore_head_offset"))

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	waitLine(t, lines, "interrupted: stopping the metrics server and closing the store")
	select {
	case err := <-exited:
		stopped = true
		require.NoError(t, err, "exit status 0 after SIGINT")
	case <-time.After(waitFor):
		t.Fatal("the program did not exit after SIGINT")
	}
	requireStopped(t, url)
}

// client makes every request on a new connection, so that no idle
// connection outlives a test.
var client = &http.Client{Timeout: waitFor, Transport: &http.Transport{DisableKeepAlives: true}}

// scrape fetches url and parses the text exposition format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// waitServing polls url until it answers 200 OK, for up to waitFor.
func waitServing(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		require.True(t, time.Now().Before(deadline), "%s did not answer 200 OK within %v: %v", url, waitFor, err)
		time.Sleep(20 * time.Millisecond) // between attempts, not as synchronisation: the deadline decides
	}
}

// requireStopped checks that nothing listens at url's address any more.
func requireStopped(t *testing.T, url string) {
	t.Helper()
	_, err := client.Get(url)
	require.Error(t, err, "the metrics server must be stopped")
}

// metric returns the only metric of family name, with the store label of the
// example.
func metric(t *testing.T, fams map[string]*dto.MetricFamily, name string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	require.True(t, ok, "%s is exported", name)
	require.Len(t, f.GetMetric(), 1, "%s: one store", name)
	m := f.GetMetric()[0]
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	require.Equal(t, map[string]string{"store": storeLabel}, labels, "%s's labels", name)
	return m
}

// value returns the value of the counter or gauge name{store="paymentchannel"}.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	m := metric(t, fams, name)
	switch fams[name].GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s is a %v, not a counter or a gauge", name, fams[name].GetType())
	return 0
}

// histogram returns the histogram name{store="paymentchannel"}.
func histogram(t *testing.T, fams map[string]*dto.MetricFamily, name string) *dto.Histogram {
	t.Helper()
	require.Equal(t, dto.MetricType_HISTOGRAM, fams[name].GetType(), name)
	return metric(t, fams, name).GetHistogram()
}

// readLines sends each line read from r on the channel it returns, which
// is closed at the end of r.
func readLines(r io.Reader) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, r) // a line too long for the scanner: keep the writer going
	}()
	return ch
}

// waitLine returns the first line that starts with prefix, skipping the
// others, and fails if none comes within waitFor.
func waitLine(t *testing.T, lines <-chan string, prefix string) string {
	t.Helper()
	timeout := time.After(waitFor)
	var seen []string
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the output ended without a line %q:\n%s", prefix, strings.Join(seen, "\n"))
			if strings.HasPrefix(l, prefix) {
				return l
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("no line %q within %v; the output so far:\n%s", prefix, waitFor, strings.Join(seen, "\n"))
		}
	}
}

// buildExample builds the program once for every test that runs it.
func buildExample(t *testing.T) string {
	t.Helper()
	exampleBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "paymentchannel-test-")
		if err != nil {
			exampleBin.err = err
			return
		}
		exampleBin.dir = dir
		exampleBin.path = filepath.Join(dir, "paymentchannel")
		build := exec.Command("go", "build", "-o", exampleBin.path, ".")
		if out, err := build.CombinedOutput(); err != nil {
			exampleBin.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(t, exampleBin.err)
	return exampleBin.path
}
