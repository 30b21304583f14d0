package main

import (
	"encoding/json"
	"fmt"

	"github.com/durablelog/eventstore"
)

// step is one append of the scenario. The plan is deterministic: every step
// names its stream, the exact version it expects and an event id, so running
// the plan again after a crash recognises the appends already committed as
// retries and writes only the missing ones, each exactly once.
type step struct {
	n        int // 1-based position in the plan
	stream   string
	expected eventstore.ExpectedVersion
	event    eventstore.Event
	what     string // for the output
	// crashPoint marks the second deposit of the funding that
	// -crash-during-funding interrupts.
	crashPoint bool
}

// paymentsPerChannel is how many payments the plan makes on each channel.
const paymentsPerChannel = 10

// buildPlan returns the scenario: each channel is opened, funded by both
// parties (two appends: the funding is in progress between them), and used
// for payments back and forth.
func buildPlan(channels, crashChannel int) []step {
	var plan []step
	add := func(stream string, typ, id, what string, d eventData) *step {
		data, err := json.Marshal(d)
		if err != nil {
			panic(err) // eventData always encodes
		}
		s := step{n: len(plan) + 1, stream: stream, what: what,
			event: eventstore.Event{ID: id, Type: typ, Data: data, Metadata: map[string]string{"example": "paymentchannel"}}}
		// Each channel's events follow each other: the expected version is
		// the number of events the stream has before this one.
		for _, p := range plan {
			if p.stream == stream {
				s.expected++
			}
		}
		plan = append(plan, s)
		return &plan[len(plan)-1]
	}
	for c := 1; c <= channels; c++ {
		ch := fmt.Sprintf("channel-%d", c)
		alice, bob := fmt.Sprintf("alice-%d", c), fmt.Sprintf("bob-%d", c)
		add(ch, ChannelOpened, ch+"/open", "open "+ch, eventData{Parties: []string{alice, bob}})
		add(ch, FundsDeposited, ch+"/fund/"+alice, "fund "+ch+": "+alice+" deposits", eventData{Party: alice, Amount: int64(100 + 10*c)})
		last := add(ch, FundsDeposited, ch+"/fund/"+bob, "fund "+ch+": "+bob+" deposits", eventData{Party: bob, Amount: int64(50 + 5*c)})
		last.crashPoint = c == crashChannel
		for i := 1; i <= paymentsPerChannel; i++ {
			from, to, amount := alice, bob, int64(1+i%7)
			if i%3 == 0 {
				from, to, amount = bob, alice, int64(1+i%5)
			}
			add(ch, PaymentSent, fmt.Sprintf("%s/pay/%d", ch, i), fmt.Sprintf("pay on %s: %s -> %s %d", ch, from, to, amount),
				eventData{From: from, To: to, Amount: amount})
		}
	}
	return plan
}

// expectedBalances is what the whole plan leaves: the fold of its events.
func expectedBalances(plan []step) (Balances, error) {
	b := Balances{}
	for i, s := range plan {
		if err := b.apply(recordOf(s, i+1)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// recordOf is the record step s becomes at offset off.
func recordOf(s step, off int) eventstore.Record {
	return eventstore.Record{Event: s.event, Stream: s.stream, Offset: eventstore.Offset(off), Version: uint64(s.expected) + 1}
}
