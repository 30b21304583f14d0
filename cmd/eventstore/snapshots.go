package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/durablelog/eventstore/internal/layout"
	"github.com/durablelog/eventstore/internal/snapfile"
)

// snapshotInfo describes one snapshot file.
type snapshotInfo struct {
	File        string    `json:"file"`
	Offset      uint64    `json:"offset"`
	Size        int64     `json:"size"`
	Created     time.Time `json:"created,omitzero"`
	Fingerprint string    `json:"fingerprint"`
	Valid       bool      `json:"valid"`
	Problem     string    `json:"problem,omitempty"`
}

// listSnapshots lists the snapshots of the store in dir, newest first, and
// checks each one completely (header, size and content checksum).
func listSnapshots(dir string) ([]snapshotInfo, error) {
	list, err := snapfile.List(layout.Snapshots(dir))
	if err != nil {
		return nil, err
	}
	out := make([]snapshotInfo, 0, len(list))
	for _, info := range list {
		si := snapshotInfo{File: info.Path, Offset: info.Offset}
		fi, err := os.Stat(info.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned meanwhile
		}
		if err == nil {
			si.Size = fi.Size()
		}
		h, err := snapfile.Check(info.Path)
		si.Created, si.Fingerprint = h.Created, h.Fingerprint
		switch {
		case err != nil:
			si.Problem = message(err)
		case h.Offset != info.Offset:
			si.Problem = fmt.Sprintf("the header says offset %d, the file name %d", h.Offset, info.Offset)
		default:
			si.Valid = true
		}
		out = append(out, si)
	}
	return out, nil
}

// describeSnapshot renders a snapshot for text output.
func describeSnapshot(s snapshotInfo) string {
	state := "valid"
	if !s.Valid {
		state = "DAMAGED: " + s.Problem
	}
	created := "-"
	if !s.Created.IsZero() {
		created = s.Created.Format(time.RFC3339)
	}
	fp := s.Fingerprint
	if fp == "" {
		fp = "-"
	}
	return fmt.Sprintf("offset %-10d %10s  %s  fingerprint %s  %s", s.Offset, formatBytes(s.Size), created, printable(fp), state)
}
