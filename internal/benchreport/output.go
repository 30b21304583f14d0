package benchreport

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Output file names.
const (
	ReportFile  = "report.md"
	JSONFile    = "results.json"
	CSVFile     = "results.csv"
	reportTitle = "Engine comparison"
)

// WriteFiles writes the report's files into dir: the charts, results.json,
// results.csv and report.md, and removes the charts of an earlier report
// that this one does not have. It sets r.Files.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("benchreport: %w", err)
	}
	files, err := r.writeCharts(dir)
	if err != nil {
		return err
	}
	r.Files = append([]string{ReportFile, JSONFile, CSVFile}, files...)
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("benchreport: %w", err)
	}
	if err := writeFile(dir, JSONFile, append(js, '\n')); err != nil {
		return err
	}
	if err := writeFile(dir, CSVFile, r.csv()); err != nil {
		return err
	}
	return writeFile(dir, ReportFile, []byte(r.markdown()))
}

func writeFile(dir, name string, b []byte) error {
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		return fmt.Errorf("benchreport: %w", err)
	}
	return nil
}

// csv returns one row per sample; each Extra figure has its own column,
// "extra:<name>".
func (r *Report) csv() []byte {
	var extras []string
	for _, s := range r.Samples {
		for k := range s.Extra {
			if !slices.Contains(extras, k) {
				extras = append(extras, k)
			}
		}
	}
	slices.Sort(extras)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := []string{"workload", "backend", "repeat", "n", "ops", "events", "bytes", "elapsed_s", "events_per_s", "p50_us", "p99_us", "max_us", "peak_rss_mib", "load1", "wall_s", "error",
		"load_before_1", "load_before_5", "load_before_15", "load_after_1", "load_after_5", "load_after_15"}
	for _, k := range extras {
		head = append(head, "extra:"+k)
	}
	_ = w.Write(head)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, s := range r.Samples {
		row := []string{s.Workload, s.Backend, strconv.Itoa(s.Repeat), strconv.Itoa(s.N), strconv.Itoa(s.Ops), strconv.Itoa(s.Events),
			strconv.FormatInt(s.Bytes, 10), f(s.ElapsedSec), f(s.EventsPerSec), f(s.P50us), f(s.P99us), f(s.MaxUs), f(s.PeakRSSMiB), f(s.Load1), f(s.WallSec), s.Err,
			f(s.LoadBefore[0]), f(s.LoadBefore[1]), f(s.LoadBefore[2]), f(s.LoadAfter[0]), f(s.LoadAfter[1]), f(s.LoadAfter[2])}
		for _, k := range extras {
			v, ok := s.Extra[k]
			if ok {
				row = append(row, f(v))
			} else {
				row = append(row, "")
			}
		}
		_ = w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}
