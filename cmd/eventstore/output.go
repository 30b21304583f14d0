package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/durablelog/eventstore"
)

// printJSON writes v as one indented JSON document.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write the output: %w", err)
	}
	return nil
}

// jsonRecord is a record as read --json prints it, one per line. Data that is
// valid JSON is printed as that JSON value, under "data"; other data, or
// all data with --base64, is printed in base64 under "data_base64". Stream
// names, types, ids and metadata are printed as JSON strings: bytes that are
// not UTF-8 show as U+FFFD (export keeps them exactly).
type jsonRecord struct {
	Offset     uint64            `json:"offset"`
	Stream     string            `json:"stream"`
	Version    uint64            `json:"version"`
	Type       string            `json:"type"`
	ID         string            `json:"id,omitempty"`
	Time       time.Time         `json:"time"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	Data       json.RawMessage   `json:"data,omitempty"`
	DataBase64 []byte            `json:"data_base64,omitempty"`
}

func toJSONRecord(r eventstore.Record, base64 bool) jsonRecord {
	j := jsonRecord{Offset: uint64(r.Offset), Stream: r.Stream, Version: r.Version, Type: r.Type, ID: r.ID, Time: r.Time, Metadata: r.Metadata}
	if len(r.Data) > 0 {
		if !base64 && json.Valid(r.Data) {
			j.Data = json.RawMessage(r.Data)
		} else {
			j.DataBase64 = r.Data
		}
	}
	return j
}

// recordWriter prints records, as text or as JSON lines.
type recordWriter struct {
	w      io.Writer
	json   bool
	base64 bool
	enc    *json.Encoder
}

func newRecordWriter(w io.Writer, asJSON, base64 bool) *recordWriter {
	return &recordWriter{w: w, json: asJSON, base64: base64, enc: json.NewEncoder(w)}
}

// write prints one record. The text form is one line:
//
//	OFFSET  STREAM vVERSION  TYPE  id=ID  TIME  DATA
//
// with id=- when the event has no id, the time in RFC 3339 with
// milliseconds, and the data as text when it is printable UTF-8, else as a
// Go-quoted string. Metadata is in the JSON form only.
func (rw *recordWriter) write(r eventstore.Record) error {
	if rw.json {
		if err := rw.enc.Encode(toJSONRecord(r, rw.base64)); err != nil {
			return fmt.Errorf("write the output: %w", err)
		}
		return nil
	}
	id := r.ID
	if id == "" {
		id = "-"
	}
	_, err := fmt.Fprintf(rw.w, "%d  %s v%d  %s  id=%s  %s  %s\n", r.Offset, printable(r.Stream), r.Version, printable(r.Type), printable(id),
		r.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"), printable(string(r.Data)))
	if err != nil {
		return fmt.Errorf("write the output: %w", err)
	}
	return nil
}

// printable returns s as it is when it is UTF-8 without control characters,
// and quoted otherwise.
func printable(s string) string {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) }) {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// formatBytes renders n bytes with a binary unit.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatSeconds renders a duration given in seconds, to the millisecond, or
// to the microsecond under a millisecond.
func formatSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// throughput is a rate report: records and bytes per second.
type throughput struct {
	Records       uint64  `json:"records"`
	Bytes         int64   `json:"bytes"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
}

func newThroughput(records uint64, bytes int64, d time.Duration) throughput {
	t := throughput{Records: records, Bytes: bytes, Seconds: d.Seconds()}
	if s := d.Seconds(); s > 0 {
		t.RecordsPerSec = float64(records) / s
		t.MBPerSec = float64(bytes) / s / 1e6
	}
	return t
}

func (t throughput) String() string {
	return fmt.Sprintf("%d records, %s in %.2fs: %.0f records/s, %.1f MB/s",
		t.Records, formatBytes(t.Bytes), t.Seconds, t.RecordsPerSec, t.MBPerSec)
}
