package torture

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/durablelog/eventstore"
)

// History is what a series of workload runs on one directory acknowledged
// and had rejected. It is a Sink, safe for concurrent use.
type History struct {
	shape Shape

	mu       sync.Mutex
	acks     map[AppendID]Ack
	rejected map[AppendID]struct{}
	hashOK   map[AppendID]bool // acks whose hash Check matched with Plan
}

func (h *History) hashChecked(id AppendID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hashOK[id]
}

func (h *History) setHashChecked(id AppendID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hashOK[id] = true
}

// NewHistory returns an empty history of appends made with shape.
func NewHistory(shape Shape) *History {
	return &History{shape: shape.withDefaults(), acks: map[AppendID]Ack{}, rejected: map[AppendID]struct{}{}, hashOK: map[AppendID]bool{}}
}

// Shape returns the shape the history's appends were made with.
func (h *History) Shape() Shape { return h.shape }

// Ack implements Sink.
func (h *History) Ack(a Ack) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.acks[a.ID]; ok && old != a {
		delete(h.hashOK, a.ID)
	}
	h.acks[a.ID] = a
}

// Reject implements Sink.
func (h *History) Reject(id AppendID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rejected[id] = struct{}{}
}

// Acks returns the acknowledged appends so far, in offset order.
func (h *History) Acks() []Ack {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Ack, 0, len(h.acks))
	for _, a := range h.acks {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Ack) int { return cmp.Compare(a.First, b.First) })
	return out
}

// Forget drops the acknowledged appends that start after head, and returns
// how many appends and events it dropped: a NoSync store that lost them
// (a power cut) gives their offsets to other appends, so they must no
// longer be required.
func (h *History) Forget(head eventstore.Offset) (appends, events int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, a := range h.acks {
		if a.First > head {
			delete(h.acks, id)
			delete(h.hashOK, id)
			appends++
			events += a.Events
		}
	}
	return appends, events
}

// Rejected returns the appends rejected so far.
func (h *History) Rejected() []AppendID {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]AppendID, 0, len(h.rejected))
	for id := range h.rejected {
		out = append(out, id)
	}
	return out
}

// Len returns the number of acknowledged appends and events.
func (h *History) Len() (appends, events int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.acks {
		events += a.Events
	}
	return len(h.acks), events
}

// Clone returns a copy: later acks to h do not change it.
func (h *History) Clone() *History {
	c := NewHistory(h.shape)
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, v := range h.acks {
		c.acks[k] = v
	}
	for k := range h.rejected {
		c.rejected[k] = struct{}{}
	}
	return c
}

type historyFile struct {
	Shape    Shape      `json:"shape"`
	Acks     []Ack      `json:"acks"`
	Rejected []AppendID `json:"rejected"`
}

// Save writes the history to path as JSON.
func (h *History) Save(path string) error {
	b, err := json.Marshal(historyFile{Shape: h.shape, Acks: h.Acks(), Rejected: h.Rejected()})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// LoadHistory reads a history that Save wrote.
func LoadHistory(path string) (*History, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f historyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("torture: decode %s: %w", path, err)
	}
	h := NewHistory(f.Shape)
	for _, a := range f.Acks {
		h.acks[a.ID] = a
	}
	for _, id := range f.Rejected {
		h.rejected[id] = struct{}{}
	}
	return h, nil
}
