package torture

import (
	"fmt"
	"strings"
)

// InFlightErr checks that the unacknowledged appends found present after the
// child of epoch was killed (survivors: Report.Survivors of the check after
// the kill, adopted into h or not) are at most the appends that child had in
// flight. A worker reports each append (Ack or Reject) before it starts the
// next one, so it has at most one append in flight, the one after the last
// it reported; any other unacknowledged append in the log is one that the
// store wrote without being asked, or one from an earlier run that was
// absent at an earlier check. It returns nil when every survivor is the
// in-flight append of its worker in epoch, and otherwise an error naming the
// others.
func (h *History) InFlightErr(epoch uint32, survivors []Ack) error {
	surviving := map[AppendID]bool{}
	for _, a := range survivors {
		surviving[a.ID] = true
	}
	// last[w] is the last append worker w of epoch reported: acknowledged
	// (but not only adopted as a survivor) or rejected.
	last := map[uint16]uint32{}
	report := func(id AppendID) {
		if id.Epoch == epoch {
			last[id.Worker] = max(last[id.Worker], id.Seq)
		}
	}
	h.mu.Lock()
	for id := range h.acks {
		if !surviving[id] {
			report(id)
		}
	}
	for id := range h.rejected {
		report(id)
	}
	h.mu.Unlock()
	var bad []string
	for _, a := range survivors {
		if a.ID.Epoch != epoch || a.ID.Seq != last[a.ID.Worker]+1 {
			bad = append(bad, fmt.Sprintf("%s at offsets %d-%d (in flight: append %d of worker %d of epoch %d)",
				a.ID, a.First, a.Last, last[a.ID.Worker]+1, a.ID.Worker, epoch))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("torture: %d unacknowledged appends present that were not in flight at the kill: %s", len(bad), strings.Join(bad, "; "))
	}
	return nil
}
