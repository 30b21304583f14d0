package main

import (
	"encoding/json"
	"fmt"
)

// PaymentCaptured is the event of a payment: its amount, and the account's
// balance after it.
type PaymentCaptured struct {
	Payment string `json:"payment"`
	Amount  int64  `json:"amount"`
	Balance int64  `json:"balance"`
}

// eventType is the type of a PaymentCaptured event.
const eventType = "PaymentCaptured"

// payment is one payment of the plan.
type payment struct {
	id      string
	account string
	amount  int64
}

// plan returns the payments writer w captures, the same in every run, so
// that the final state is known in advance.
func plan(c config, w int) []payment {
	out := make([]payment, c.payments)
	for i := range out {
		out[i] = payment{
			id:      fmt.Sprintf("w%d-p%d", w, i),
			account: accountStream((w + i) % c.accounts),
			amount:  int64(1 + (w*7+i*3)%50),
		}
	}
	return out
}

// accountStream names the stream of account k.
func accountStream(k int) string { return fmt.Sprintf("account-%d", k) }

// decode reads a PaymentCaptured event.
func decode(data []byte) (PaymentCaptured, error) {
	var p PaymentCaptured
	err := json.Unmarshal(data, &p)
	return p, err
}
