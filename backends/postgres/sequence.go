package postgres

import (
	"fmt"
	"time"

	"github.com/durablelog/eventstore/logstore"
)

// idKey names an event id within its stream.
type idKey struct{ stream, id string }

// idAt is where a committed event id is: its version and offset.
type idAt struct {
	version  uint64
	position logstore.Offset
}

// sequencer decides the appends of one group commit inside its transaction,
// which holds the head row's lock: every committed append is visible and no
// other can commit, so the stream versions and ids read at the start are
// exact, and the group's own appends are laid over them.
type sequencer struct {
	head     logstore.Offset
	now      time.Time
	versions map[string]uint64 // committed version of each stream of the group
	ids      map[idKey]idAt    // committed ids that the group's events carry
	streams  map[string]*streamState
	records  []logstore.Record
	// appends and bytes count the requests added and their events' data
	// and metadata bytes, for the store's metrics.
	appends int
	bytes   int64
}

// streamState is a stream touched by the group.
type streamState struct {
	base    uint64            // committed version before the group
	version uint64            // including the group's appends
	added   []logstore.Offset // offsets of the events the group added, versions base+1...
	ids     map[string]uint64 // ids the group added -> version
	addedID []string          // ids of the events the group added
}

// outcome says what add did with a request.
type outcome int

const (
	added          outcome = iota // written into the group
	retryCommitted                // a retry of a committed append: nothing written
	retryInGroup                  // a retry of an append of this group: completes with it
)

func newSequencer(head logstore.Offset, now time.Time, versions map[string]uint64, ids map[idKey]idAt) *sequencer {
	return &sequencer{head: head, now: now, versions: versions, ids: ids, streams: map[string]*streamState{}}
}

func (s *sequencer) stream(name string) *streamState {
	st := s.streams[name]
	if st == nil {
		v := s.versions[name]
		st = &streamState{base: v, version: v}
		s.streams[name] = st
	}
	return st
}

// add checks req against the committed state and the group's earlier
// appends and, when it passes, assigns its offsets and versions.
func (s *sequencer) add(req logstore.AppendRequest) (logstore.AppendResult, outcome, error) {
	var res logstore.AppendResult
	st := s.stream(req.Stream)
	if !req.Expected.Matches(st.version) {
		r, ok := s.retryOf(req, st)
		switch {
		case ok && r.Version > st.base:
			return r, retryInGroup, nil
		case ok:
			return r, retryCommitted, nil
		}
		return res, added, &logstore.WrongExpectedVersionError{Stream: req.Stream, Expected: req.Expected, Actual: st.version}
	}
	for _, e := range req.Events {
		if e.ID == "" {
			continue
		}
		if v, ok := st.ids[e.ID]; ok {
			return res, added, fmt.Errorf("%w: id %q of stream %q is used by version %d", logstore.ErrDuplicateID, e.ID, req.Stream, v)
		}
		if at, ok := s.ids[idKey{req.Stream, e.ID}]; ok {
			return res, added, fmt.Errorf("%w: id %q of stream %q is used by version %d", logstore.ErrDuplicateID, e.ID, req.Stream, at.version)
		}
	}
	if req.At != 0 && req.At != s.head+1 {
		return res, added, fmt.Errorf("%w: stream %q: its first event would get offset %d, not %d", logstore.ErrWrongOffset, req.Stream, s.head+1, req.At)
	}
	at := s.now
	if !req.Time.IsZero() {
		at = req.Time.UTC()
	}
	res.First = s.head + 1
	for _, e := range req.Events {
		s.head++
		st.version++
		s.records = append(s.records, logstore.Record{Event: e, Stream: req.Stream, Offset: s.head, Version: st.version, Time: at})
		st.added = append(st.added, s.head)
		st.addedID = append(st.addedID, e.ID)
		if e.ID != "" {
			if st.ids == nil {
				st.ids = map[string]uint64{}
			}
			st.ids[e.ID] = st.version
		}
	}
	res.Last, res.Version = s.head, st.version
	s.appends++
	for _, e := range req.Events {
		s.bytes += int64(len(e.Data))
		for k, v := range e.Metadata {
			s.bytes += int64(len(k) + len(v))
		}
	}
	return res, added, nil
}

// retryOf recognises a retry: an exact expected version, every event with an
// id, and the stream's events right after that version carrying the same ids
// in the same order, committed or added earlier in the group.
func (s *sequencer) retryOf(req logstore.AppendRequest, st *streamState) (logstore.AppendResult, bool) {
	var res logstore.AppendResult
	if req.Expected < 0 || uint64(req.Expected)+uint64(len(req.Events)) > st.version {
		return res, false
	}
	for i, e := range req.Events {
		if e.ID == "" {
			return res, false
		}
		v := uint64(req.Expected) + uint64(i) + 1
		var off logstore.Offset
		if v > st.base {
			if st.addedID[v-st.base-1] != e.ID {
				return res, false
			}
			off = st.added[v-st.base-1]
		} else {
			at, ok := s.ids[idKey{req.Stream, e.ID}]
			if !ok || at.version != v {
				return res, false
			}
			off = at.position
		}
		if i == 0 {
			res.First = off
		}
		res.Last = off
	}
	res.Version = uint64(req.Expected) + uint64(len(req.Events))
	return res, true
}
