package conformance

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/durablelog/eventstore"
)

// HashState is a StateMachine for tests: it folds every record into a hash
// chain and checks that records arrive exactly once, in offset order. Two
// HashStates that applied the same log have the same Sum.
type HashState struct {
	// FingerprintValue is returned by Fingerprint.
	FingerprintValue string
	// FailAt, when not 0, makes Apply fail at that offset.
	FailAt eventstore.Offset
	// FailSnapshot makes Snapshot fail while set.
	FailSnapshot atomic.Bool

	mu    sync.Mutex
	state hashStateData
}

type hashStateData struct {
	Count uint64            `json:"count"`
	Last  eventstore.Offset `json:"last"`
	Hash  []byte            `json:"hash"`
}

// ErrInjected is the error HashState returns when told to fail.
var ErrInjected = errors.New("conformance: injected failure")

// Fingerprint implements eventstore.Fingerprinter.
func (s *HashState) Fingerprint() string { return s.FingerprintValue }

// Apply folds r into the state.
func (s *HashState) Apply(r eventstore.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.FailAt != 0 && r.Offset == s.FailAt {
		return fmt.Errorf("%w at offset %d", ErrInjected, r.Offset)
	}
	if r.Offset != s.state.Last+1 {
		return fmt.Errorf("conformance: Apply got offset %d after %d: not exactly once in order", r.Offset, s.state.Last)
	}
	h := sha256.New()
	h.Write(s.state.Hash)
	fmt.Fprintf(h, "%d|%s|%d|%s|%s|%x|%v", r.Offset, r.Stream, r.Version, r.ID, r.Type, r.Data, r.Metadata)
	s.state.Hash = h.Sum(nil)
	s.state.Count++
	s.state.Last = r.Offset
	return nil
}

// Snapshot writes the state as JSON.
func (s *HashState) Snapshot(w io.Writer) error {
	if s.FailSnapshot.Load() {
		return ErrInjected
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.NewEncoder(w).Encode(s.state)
}

// Restore replaces the state with a snapshot's.
func (s *HashState) Restore(r io.Reader) error {
	var d hashStateData
	if err := json.NewDecoder(r).Decode(&d); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = d
	return nil
}

// Sum returns the number of records applied, the last offset and the hash.
func (s *HashState) Sum() (uint64, eventstore.Offset, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Count, s.state.Last, fmt.Sprintf("%x", s.state.Hash)
}

// Fold returns the Sum of a fresh HashState that applied recs.
func Fold(recs []eventstore.Record) (uint64, eventstore.Offset, string, error) {
	var s HashState
	for _, r := range recs {
		if err := s.Apply(r); err != nil {
			return 0, 0, "", err
		}
	}
	c, l, h := s.Sum()
	return c, l, h, nil
}
