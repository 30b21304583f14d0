package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/durablelog/eventstore"
)

// Event types of the order streams.
const (
	OrderPlaced = "OrderPlaced" // {"customer": "c3", "amount": 40}
	OrderPaid   = "OrderPaid"   // {"amount": 40}
)

type orderData struct {
	Customer string `json:"customer,omitempty"`
	Amount   int64  `json:"amount"`
}

// Customer is one row of the read model.
type Customer struct {
	Orders int   `json:"orders"`
	Placed int64 `json:"placed"`
	Paid   int64 `json:"paid"`
}

// Model is the read model: totals per customer, built from the order
// streams. Checkpoint is the offset of the last event applied to it; the
// model and its checkpoint are saved together, in one file, atomically, so
// that they never disagree.
type Model struct {
	Checkpoint eventstore.Offset    `json:"checkpoint"`
	Customers  map[string]*Customer `json:"customers"`
	// Orders maps an order's stream to its customer, for OrderPaid.
	Orders map[string]string `json:"orders"`
}

func newModel() *Model {
	return &Model{Customers: map[string]*Customer{}, Orders: map[string]string{}}
}

// apply folds one event into the model. It does not move the checkpoint.
func (m *Model) apply(r eventstore.Record) error {
	var d orderData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return fmt.Errorf("offset %d: %w", r.Offset, err)
	}
	switch r.Type {
	case OrderPlaced:
		c := m.Customers[d.Customer]
		if c == nil {
			c = &Customer{}
			m.Customers[d.Customer] = c
		}
		c.Orders++
		c.Placed += d.Amount
		m.Orders[r.Stream] = d.Customer
	case OrderPaid:
		cust, ok := m.Orders[r.Stream]
		if !ok {
			return fmt.Errorf("offset %d: %s paid before it was placed", r.Offset, r.Stream)
		}
		m.Customers[cust].Paid += d.Amount
	default:
		return fmt.Errorf("offset %d: unknown event type %q", r.Offset, r.Type)
	}
	return nil
}

// sameRows reports whether m and o hold the same customers and orders.
func (m *Model) sameRows(o *Model) bool {
	return maps.Equal(m.Orders, o.Orders) &&
		maps.EqualFunc(m.Customers, o.Customers, func(a, b *Customer) bool { return *a == *b })
}

// String renders the customers in name order.
func (m *Model) String() string {
	var sb strings.Builder
	for _, name := range slices.Sorted(maps.Keys(m.Customers)) {
		c := m.Customers[name]
		fmt.Fprintf(&sb, "  %-4s orders %-3d placed %-6d paid %-6d\n", name, c.Orders, c.Placed, c.Paid)
	}
	return sb.String()
}

// loadModel reads the saved model, or returns an empty one at checkpoint 0.
func loadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newModel(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the projection: %w", err)
	}
	m := newModel()
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("the projection %s does not decode: %w; delete it to rebuild the projection from the log", path, err)
	}
	return m, nil
}

// save writes the model and its checkpoint atomically: a temporary file,
// fsync, rename over the old file, fsync of the directory. After a crash the
// file holds either the old model and checkpoint or the new ones, never a
// mix.
func (m *Model) save(path string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".projection-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails once renamed, which is fine
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
