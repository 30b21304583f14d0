package benchreport

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// notesJSON holds the maintainers' explanations of the figures, by target
// ID and backend: see its "_how" entry. Summarize puts them into
// TargetResult.Note, so that rewriting a report from its results.json
// (LoadReport, then WriteFiles) picks up an edited note.
//
//go:embed notes.json
var notesJSON []byte

// notes are notesJSON parsed: notes[key][backend or "*"].
var notes = mustParseNotes(notesJSON)

func mustParseNotes(b []byte) map[string]map[string]string {
	n, err := parseNotes(b)
	if err != nil {
		panic(err)
	}
	return n
}

func parseNotes(b []byte) (map[string]map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("benchreport: notes.json: %w", err)
	}
	out := map[string]map[string]string{}
	for k, v := range raw {
		if strings.HasPrefix(k, "_") {
			continue
		}
		var m map[string]string
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, fmt.Errorf("benchreport: notes.json: %q: %w", k, err)
		}
		out[k] = m
	}
	return out, nil
}

// note returns the note for backend b under the first of keys that has
// one, by backend first, then "*".
func note(b string, keys ...string) string {
	for _, k := range keys {
		if n, ok := notes[k][b]; ok {
			return n
		}
		if n, ok := notes[k]["*"]; ok {
			return n
		}
	}
	return ""
}

// applyNotes sets the Note of every target and yardstick figure.
func applyNotes(targets, yardstick []TargetResult) {
	for i := range targets {
		targets[i].Note = note(targets[i].Backend, targets[i].ID)
	}
	for i := range yardstick {
		y := &yardstick[i]
		y.Note = note(y.Backend, y.ID+"/"+y.Title, y.ID)
	}
}
