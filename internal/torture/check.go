package torture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/conformance"
)

// Kind is a kind of Violation.
type Kind string

// The kinds of violation Check finds.
const (
	KindGap             Kind = "gap"              // offsets not dense from 1, or fewer records than the head
	KindStreamVersion   Kind = "stream-version"   // a stream's versions not dense from 1
	KindForeign         Kind = "foreign"          // a record that no workload append wrote (no or bad metadata)
	KindMismatch        Kind = "mismatch"         // a record's bytes differ from what its append submitted
	KindPartial         Kind = "partial"          // an append present in part, or its events not contiguous and in order
	KindDuplicate       Kind = "duplicate"        // an append present twice
	KindLost            Kind = "lost"             // an acknowledged append missing
	KindAckMismatch     Kind = "ack-mismatch"     // an acknowledged append present elsewhere than its Ack said
	KindRejectedPresent Kind = "rejected-present" // an append rejected for its expected version is present
	KindState           Kind = "state"            // the recovered state differs from a fold over the log
	KindRecovery        Kind = "recovery"         // the recovery report says events were lost, or contradicts itself
	KindGeneration      Kind = "generation"       // the store moved to another generation than expected
)

// Violation is one broken promise found by Check.
type Violation struct {
	Kind   Kind
	Offset eventstore.Offset // 0 when not about one offset
	Append string            // the append concerned, if any
	Detail string
}

func (v Violation) String() string {
	var b strings.Builder
	b.WriteString(string(v.Kind))
	if v.Offset > 0 {
		fmt.Fprintf(&b, " at offset %d", v.Offset)
	}
	if v.Append != "" {
		fmt.Fprintf(&b, " (append %s)", v.Append)
	}
	b.WriteString(": ")
	b.WriteString(v.Detail)
	return b.String()
}

// Report is what Check found.
type Report struct {
	Head    eventstore.Offset // the head the store recovered
	Records uint64            // records read
	Streams int               // distinct streams
	Appends int               // distinct appends present, whole

	AckedAppends, AckedEvents     int // acknowledged appends (events) checked
	LostAppends, LostEvents       int // acknowledged appends (events) missing or misplaced: must be 0
	UnackedAppends, UnackedEvents int // present but never acknowledged (in flight at the crash)
	RejectedChecked               int // rejected appends checked absent

	// Survivors are the unacknowledged appends found present, as Acks:
	// a caller that goes on appending to the store adopts them
	// (History.Ack), since they must stay from now on.
	Survivors []Ack

	// FoldPoint is the fold over the log read, to resume from
	// (CheckOptions.FoldFrom).
	FoldPoint *FoldPoint

	// MinLostFirst is the smallest First offset of the lost
	// acknowledgements, 0 when none was lost.
	MinLostFirst eventstore.Offset

	// Recovery is the store's recovery report, and Generation the
	// store's generation (Store.Generation).
	Recovery   eventstore.RecoveryReport
	Generation uint64
	// StateCount and StateHash are the recovered HashState's; FoldHash is
	// the fold over the log read.
	StateCount uint64
	StateHash  string
	FoldHash   string

	// Counts counts the violations per kind; Violations holds the first
	// few of each kind.
	Counts     map[Kind]int
	Violations []Violation
}

// OK reports whether no violation was found.
func (r *Report) OK() bool { return len(r.Counts) == 0 }

// OnlyTailLoss reports whether the only violations are acknowledged appends
// lost at the end of the log: what remains is a dense, byte-identical prefix
// of what was acknowledged.
func (r *Report) OnlyTailLoss() bool {
	if len(r.Counts) != 1 || r.Counts[KindLost] == 0 {
		return false
	}
	return uint64(r.MinLostFirst) > r.Records
}

// Err returns nil when no violation was found, and otherwise an error that
// lists the counts and the first violations.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "torture: %d kinds of violation:", len(r.Counts))
	for k, n := range r.Counts {
		fmt.Fprintf(&b, " %s=%d", k, n)
	}
	for _, v := range r.Violations {
		b.WriteString("\n\t")
		b.WriteString(v.String())
	}
	return errors.New(b.String())
}

// maxPerKind bounds the violations kept of each kind.
const maxPerKind = 5

func (r *Report) add(v Violation) {
	if r.Counts == nil {
		r.Counts = map[Kind]int{}
	}
	r.Counts[v.Kind]++
	if r.Counts[v.Kind] <= maxPerKind {
		r.Violations = append(r.Violations, v)
	}
}

// Check verifies the store s against h, as the package documentation
// describes. s must have been opened (see Open) with sm, a fresh HashState,
// and nothing may append to it while Check runs. The error is nil only when
// the store is intact: it is the Verify or read error (wrapping ErrCorrupt
// for damaged data), or Report.Err.
func Check(ctx context.Context, s *eventstore.Store, sm *conformance.HashState, h *History) (*Report, error) {
	return CheckWith(ctx, s, sm, h, CheckOptions{})
}

// CheckOptions make a Check cheaper, for long runs over a growing log.
type CheckOptions struct {
	// SkipVerify skips Store.Verify (the index and id-index checks; the
	// log read checks every record's checksum anyway).
	SkipVerify bool
	// Generation, when not 0, is the generation the store must be at: a
	// store that lost nothing stays in its generation (Report.Generation
	// of the previous check).
	Generation uint64
	// FoldFrom resumes the fold over the log from the state of an earlier
	// Check of the same store (Report.FoldPoint), instead of folding from
	// offset 1. This is sound when everything up to that point was
	// adopted into h (History.Ack of Report.Survivors): the records up to
	// it are then each checked byte-identical to what was acknowledged at
	// their offsets, so their fold is unchanged.
	FoldFrom *FoldPoint
}

// FoldPoint is the fold over a log up to Offset.
type FoldPoint struct {
	Offset eventstore.Offset
	State  []byte // HashState.Snapshot
}

// CheckWith is Check with options.
func CheckWith(ctx context.Context, s *eventstore.Store, sm *conformance.HashState, h *History, o CheckOptions) (*Report, error) {
	rep, err := inspect(ctx, s, sm, h, o)
	if err != nil {
		return rep, err
	}
	return rep, rep.Err()
}

// Inspect is Check without the verdict: the error is only the Verify or read
// error (wrapping ErrCorrupt for damaged data), and the violations are in the
// report. When Verify fails, Inspect returns at once, without reading the
// log.
func Inspect(ctx context.Context, s *eventstore.Store, sm *conformance.HashState, h *History) (*Report, error) {
	return inspect(ctx, s, sm, h, CheckOptions{})
}

// ErrVerify wraps the error of Store.Verify in Check and Inspect.
var ErrVerify = errors.New("torture: Verify failed")

func inspect(ctx context.Context, s *eventstore.Store, sm *conformance.HashState, h *History, o CheckOptions) (*Report, error) {
	rep := &Report{Recovery: s.LastRecovery(), Head: s.Head(), Generation: s.Generation()}
	checkRecovery(rep, o.Generation)
	if !o.SkipVerify {
		if _, err := s.Verify(ctx); err != nil {
			return rep, fmt.Errorf("%w: %w", ErrVerify, err)
		}
	}
	c := newChecker(h.Shape(), rep)
	if o.FoldFrom != nil && o.FoldFrom.Offset <= rep.Head {
		if err := c.fold.Restore(bytes.NewReader(o.FoldFrom.State)); err != nil {
			return rep, fmt.Errorf("torture: resume the fold: %w", err)
		}
		c.foldFrom = o.FoldFrom.Offset
	}
	for r, err := range s.Log(ctx, 1) {
		if err != nil {
			return rep, fmt.Errorf("torture: read the log after offset %d: %w", rep.Records, err)
		}
		c.add(r)
	}
	c.finish(h)
	var buf bytes.Buffer
	if err := c.fold.Snapshot(&buf); err == nil {
		rep.FoldPoint = &FoldPoint{Offset: eventstore.Offset(rep.Records), State: buf.Bytes()}
	}
	if sm != nil {
		var last eventstore.Offset
		rep.StateCount, last, rep.StateHash = sm.Sum()
		_, _, rep.FoldHash = c.fold.Sum()
		if rep.StateHash != rep.FoldHash || rep.StateCount != rep.Records || last != rep.Head {
			rep.add(Violation{Kind: KindState, Detail: fmt.Sprintf("recovered state has %d events up to offset %d, hash %.12s; the fold over the log %d events, hash %.12s",
				rep.StateCount, last, rep.StateHash, rep.Records, rep.FoldHash)})
		}
	}
	return rep, nil
}

// RecoveryErr checks a recovery report as Check does (see checkRecovery),
// for a store that was opened elsewhere (a child process), against the
// generation want (0: any).
func RecoveryErr(rec eventstore.RecoveryReport, want uint64) error {
	rep := &Report{Recovery: rec, Generation: rec.Generation}
	checkRecovery(rep, want)
	return rep.Err()
}

// checkRecovery checks the recovery report: nothing lost, no hole cut, no
// snapshot set aside for covering lost events, the log not below the head
// mark, and the generation the expected one (when want is not 0) and the
// one the report gives.
func checkRecovery(rep *Report, want uint64) {
	rec := rep.Recovery
	if rec.LostEvents > 0 {
		rep.add(Violation{Kind: KindRecovery, Detail: fmt.Sprintf("the recovery report says %d events were lost after head %d", rec.LostEvents, rec.Head)})
	}
	if rec.HoleAt > 0 {
		rep.add(Violation{Kind: KindRecovery, Offset: rec.HoleAt, Detail: fmt.Sprintf("the recovery report says the log had a hole at offset %d and was cut back", rec.HoleAt)})
	}
	if len(rec.LostSnapshots) > 0 {
		rep.add(Violation{Kind: KindRecovery, Detail: fmt.Sprintf("recovery set aside snapshots past the head: %v", rec.LostSnapshots)})
	}
	if rec.HeadMark > rec.Head {
		rep.add(Violation{Kind: KindRecovery, Detail: fmt.Sprintf("the log ends at offset %d, below the head mark's %d", rec.Head, rec.HeadMark)})
	}
	if rec.Generation != rep.Generation {
		rep.add(Violation{Kind: KindGeneration, Detail: fmt.Sprintf("the recovery report gives generation %d, the store %d", rec.Generation, rep.Generation)})
	}
	if want != 0 && rep.Generation != want {
		rep.add(Violation{Kind: KindGeneration, Detail: fmt.Sprintf("the store is at generation %d, expected %d", rep.Generation, want)})
	}
}

// seen is an append found whole in the log.
type seen struct {
	stream      string
	first, last eventstore.Offset
	version     uint64
}

// checker checks the log record by record.
type checker struct {
	shape    Shape
	rep      *Report
	fold     conformance.HashState
	foldFrom eventstore.Offset // records up to it are already folded
	foldErr  bool
	streams  map[string]uint64
	seen     map[AppendID]seen

	// the append being read
	cur      *Planned
	curIDs   string
	curFirst eventstore.Offset
	curN     int
}

func newChecker(shape Shape, rep *Report) *checker {
	return &checker{shape: shape, rep: rep, streams: map[string]uint64{}, seen: map[AppendID]seen{}}
}

func (c *checker) add(r eventstore.Record) {
	rep := c.rep
	rep.Records++
	if uint64(r.Offset) != rep.Records {
		rep.add(Violation{Kind: KindGap, Offset: r.Offset, Detail: fmt.Sprintf("record %d of the log has offset %d", rep.Records, r.Offset)})
	}
	if want := c.streams[r.Stream] + 1; r.Version != want {
		rep.add(Violation{Kind: KindStreamVersion, Offset: r.Offset, Detail: fmt.Sprintf("stream %q has version %d after %d", r.Stream, r.Version, want-1)})
	}
	c.streams[r.Stream] = r.Version
	if !c.foldErr && r.Offset > c.foldFrom {
		if err := c.fold.Apply(r); err != nil {
			c.foldErr = true
			rep.add(Violation{Kind: KindState, Offset: r.Offset, Detail: err.Error()})
		}
	}

	ids := r.Metadata[MetaAppend]
	id, err := ParseAppendID(ids)
	idx, err1 := strconv.Atoi(r.Metadata[MetaIndex])
	n, err2 := strconv.Atoi(r.Metadata[MetaCount])
	if err != nil || err1 != nil || err2 != nil || n < 1 || idx < 0 || idx >= n {
		c.closeCurrent(r.Offset)
		rep.add(Violation{Kind: KindForeign, Offset: r.Offset, Detail: fmt.Sprintf("metadata %v names no workload append", r.Metadata)})
		return
	}
	if c.cur != nil && c.curIDs != ids {
		c.closeCurrent(r.Offset)
	}
	if c.cur == nil {
		if idx != 0 {
			rep.add(Violation{Kind: KindPartial, Offset: r.Offset, Append: ids, Detail: fmt.Sprintf("event %d of %d found without the events before it", idx, n)})
			return
		}
		if _, dup := c.seen[id]; dup {
			rep.add(Violation{Kind: KindDuplicate, Offset: r.Offset, Append: ids, Detail: "the append is in the log twice"})
		}
		p := Plan(c.shape, id)
		c.cur, c.curIDs, c.curFirst, c.curN = &p, ids, r.Offset, 0
	}
	p := c.cur
	switch {
	case idx != c.curN:
		rep.add(Violation{Kind: KindPartial, Offset: r.Offset, Append: ids, Detail: fmt.Sprintf("event %d found where event %d was due", idx, c.curN)})
		c.cur = nil
		return
	case n != len(p.Events):
		rep.add(Violation{Kind: KindMismatch, Offset: r.Offset, Append: ids, Detail: fmt.Sprintf("the record says the append has %d events, it had %d", n, len(p.Events))})
		c.cur = nil
		return
	case r.Stream != p.Stream:
		rep.add(Violation{Kind: KindMismatch, Offset: r.Offset, Append: ids, Detail: fmt.Sprintf("in stream %q, the append went to %q", r.Stream, p.Stream)})
	case !sameEvent(r, p.Events[idx]):
		rep.add(Violation{Kind: KindMismatch, Offset: r.Offset, Append: ids, Detail: fmt.Sprintf("event %d differs from what was appended (type %q/%q, %d/%d data bytes)",
			idx, r.Type, p.Events[idx].Type, len(r.Data), len(p.Events[idx].Data))})
	}
	c.curN++
	if c.curN == len(p.Events) {
		c.seen[id] = seen{stream: r.Stream, first: c.curFirst, last: r.Offset, version: r.Version}
		c.rep.Appends++
		c.cur = nil
	}
}

// closeCurrent ends the append being read, which is incomplete.
func (c *checker) closeCurrent(at eventstore.Offset) {
	if c.cur == nil {
		return
	}
	c.rep.add(Violation{Kind: KindPartial, Offset: at, Append: c.curIDs, Detail: fmt.Sprintf("only %d of the append's %d events, from offset %d, are present", c.curN, len(c.cur.Events), c.curFirst)})
	c.cur = nil
}

func (c *checker) finish(h *History) {
	rep := c.rep
	c.closeCurrent(eventstore.Offset(rep.Records + 1))
	rep.Streams = len(c.streams)
	if rep.Records != uint64(rep.Head) {
		rep.add(Violation{Kind: KindGap, Detail: fmt.Sprintf("the head is %d but the log holds %d records", rep.Head, rep.Records)})
	}
	acked := map[AppendID]bool{}
	for _, a := range h.Acks() {
		acked[a.ID] = true
		got, ok := c.seen[a.ID]
		if !ok {
			rep.LostAppends++
			rep.LostEvents += a.Events
			if rep.MinLostFirst == 0 || a.First < rep.MinLostFirst {
				rep.MinLostFirst = a.First
			}
			rep.add(Violation{Kind: KindLost, Offset: a.First, Append: a.ID.String(), Detail: fmt.Sprintf("acknowledged at offsets %d-%d of stream %q (version %d) and missing", a.First, a.Last, a.Stream, a.Version)})
			continue
		}
		rep.AckedAppends++
		rep.AckedEvents += a.Events
		if got.first != a.First || got.last != a.Last || got.version != a.Version || got.stream != a.Stream {
			rep.add(Violation{Kind: KindAckMismatch, Offset: got.first, Append: a.ID.String(), Detail: fmt.Sprintf("acknowledged at %d-%d, %q version %d; found at %d-%d, %q version %d",
				a.First, a.Last, a.Stream, a.Version, got.first, got.last, got.stream, got.version)})
		}
		if !h.hashChecked(a.ID) {
			if ph := Plan(c.shape, a.ID).Hash(); ph != a.Hash {
				rep.add(Violation{Kind: KindAckMismatch, Append: a.ID.String(), Detail: "the ack's content hash differs from the plan's: the workload and the verifier disagree on the content"})
			} else {
				h.setHashChecked(a.ID)
			}
		}
	}
	for id, s := range c.seen {
		if !acked[id] {
			rep.UnackedAppends++
			rep.UnackedEvents += int(s.last - s.first + 1)
			rep.Survivors = append(rep.Survivors, Ack{ID: id, Stream: s.stream, First: s.first, Last: s.last,
				Version: s.version, Events: int(s.last - s.first + 1), Hash: Plan(c.shape, id).Hash()})
		}
	}
	for _, id := range h.Rejected() {
		rep.RejectedChecked++
		if s, ok := c.seen[id]; ok {
			rep.add(Violation{Kind: KindRejectedPresent, Offset: s.first, Append: id.String(), Detail: "rejected for a wrong expected version, yet present"})
		}
	}
}
