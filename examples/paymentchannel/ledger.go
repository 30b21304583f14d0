package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/durablelog/eventstore"
)

// Event types and their data.
const (
	ChannelOpened  = "ChannelOpened"  // {"parties": ["alice-1", "bob-1"]}
	FundsDeposited = "FundsDeposited" // {"party": "alice-1", "amount": 100}
	PaymentSent    = "PaymentSent"    // {"from": "alice-1", "to": "bob-1", "amount": 7}
)

// eventData is the data of every event type; each uses some fields.
type eventData struct {
	Parties []string `json:"parties,omitempty"`
	Party   string   `json:"party,omitempty"`
	From    string   `json:"from,omitempty"`
	To      string   `json:"to,omitempty"`
	Amount  int64    `json:"amount,omitempty"`
}

// Balances is what the events say each party of each channel holds:
// channel -> party -> balance.
type Balances map[string]map[string]int64

// apply folds one record into b. It rejects events that break the rules of a
// channel: a payment larger than the payer's balance, a party that is not in
// the channel, an event before ChannelOpened.
func (b Balances) apply(r eventstore.Record) error {
	var d eventData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return fmt.Errorf("offset %d: decode %s: %w", r.Offset, r.Type, err)
	}
	ch := b[r.Stream]
	if r.Type != ChannelOpened && ch == nil {
		return fmt.Errorf("offset %d: %s on %s, which is not open", r.Offset, r.Type, r.Stream)
	}
	member := func(p string) error {
		if _, ok := ch[p]; !ok {
			return fmt.Errorf("offset %d: %s is not a party of %s", r.Offset, p, r.Stream)
		}
		return nil
	}
	switch r.Type {
	case ChannelOpened:
		if ch != nil {
			return fmt.Errorf("offset %d: %s opened twice", r.Offset, r.Stream)
		}
		ch = map[string]int64{}
		for _, p := range d.Parties {
			ch[p] = 0
		}
		b[r.Stream] = ch
	case FundsDeposited:
		if err := member(d.Party); err != nil {
			return err
		}
		ch[d.Party] += d.Amount
	case PaymentSent:
		if err := member(d.From); err != nil {
			return err
		}
		if err := member(d.To); err != nil {
			return err
		}
		if ch[d.From] < d.Amount {
			return fmt.Errorf("offset %d: %s pays %d but holds %d", r.Offset, d.From, d.Amount, ch[d.From])
		}
		ch[d.From] -= d.Amount
		ch[d.To] += d.Amount
	default:
		return fmt.Errorf("offset %d: unknown event type %q", r.Offset, r.Type)
	}
	return nil
}

// clone returns a deep copy of b.
func (b Balances) clone() Balances {
	c := make(Balances, len(b))
	for ch, parties := range b {
		c[ch] = maps.Clone(parties)
	}
	return c
}

// equal reports whether b and c hold the same balances.
func (b Balances) equal(c Balances) bool {
	return maps.EqualFunc(b, c, func(x, y map[string]int64) bool { return maps.Equal(x, y) })
}

// String renders the balances, one channel per line, in name order.
func (b Balances) String() string {
	if len(b) == 0 {
		return "  (no channel yet)\n"
	}
	var sb strings.Builder
	for _, ch := range slices.Sorted(maps.Keys(b)) {
		fmt.Fprintf(&sb, "  %-11s", ch)
		for _, p := range slices.Sorted(maps.Keys(b[ch])) {
			fmt.Fprintf(&sb, " %s=%-5d", p, b[ch][p])
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// fold computes the balances from records.
func fold(recs []eventstore.Record) (Balances, error) {
	b := Balances{}
	for _, r := range recs {
		if err := b.apply(r); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Ledger is the application's state machine: the balances, kept up to date
// by the store, which snapshots it and restores it on Open.
type Ledger struct {
	mu sync.Mutex
	b  Balances
}

var (
	_ eventstore.StateMachine  = (*Ledger)(nil)
	_ eventstore.Fingerprinter = (*Ledger)(nil)
)

// NewLedger returns an empty ledger.
func NewLedger() *Ledger { return &Ledger{b: Balances{}} }

// Apply implements eventstore.StateMachine.
func (l *Ledger) Apply(r eventstore.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.apply(r)
}

// Snapshot implements eventstore.StateMachine: the balances as JSON.
func (l *Ledger) Snapshot(w io.Writer) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return json.NewEncoder(w).Encode(l.b)
}

// Restore implements eventstore.StateMachine.
func (l *Ledger) Restore(r io.Reader) error {
	b := Balances{}
	if err := json.NewDecoder(r).Decode(&b); err != nil {
		return fmt.Errorf("decode the ledger snapshot: %w", err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil { // the checksum is checked at the end
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = b
	return nil
}

// Fingerprint implements eventstore.Fingerprinter: a new schema of the
// balances changes it, and recovery then replays instead of restoring.
func (l *Ledger) Fingerprint() string { return "paymentchannel/balances/v1" }

// Balances returns a copy of the current balances.
func (l *Ledger) Balances() Balances {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.clone()
}
