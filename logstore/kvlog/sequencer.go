package kvlog

import (
	"fmt"
	"time"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/internal/record"
	"github.com/durablelog/eventstore/logstore"
)

// sequencer assigns offsets and versions to the appends of one group and
// checks them against the committed state plus the group's earlier appends.
type sequencer struct {
	l       *Log
	head    logstore.Offset
	now     time.Time
	streams map[string]*streamState
	records []logstore.Record
	// appends and bytes count the requests added and their events' data
	// and metadata bytes, for the observer.
	appends int
	bytes   int64
}

// streamState is a stream touched by the group.
type streamState struct {
	base    uint64            // committed version before the group
	version uint64            // version including the group's appends
	added   []addedEvent      // events the group added, versions base+1...
	ids     map[string]uint64 // ids the group added -> version
}

type addedEvent struct {
	offset logstore.Offset
	id     string
}

func newSequencer(l *Log, head logstore.Offset, now time.Time) *sequencer {
	return &sequencer{l: l, head: head, now: now, streams: map[string]*streamState{}}
}

func (s *sequencer) stream(name string) (*streamState, error) {
	if st := s.streams[name]; st != nil {
		return st, nil
	}
	v, ok := s.l.versions.get(name)
	if !ok {
		var err error
		if v, err = s.l.lastVersion(name, s.head); err != nil {
			return nil, err
		}
	}
	st := &streamState{base: v, version: v}
	s.streams[name] = st
	return st, nil
}

// outcome says what add did with a request.
type outcome int

const (
	// added: the request passed its checks and is written into the batch.
	added outcome = iota
	// retryCommitted: a retry of an append that is committed and
	// published; its original result is returned and nothing is written.
	retryCommitted
	// retryInGroup: a retry of an append added earlier in this group,
	// which is not committed yet. It completes with the group's commit,
	// and fails with it.
	retryInGroup
)

// add checks req and, when it passes, assigns its offsets and writes it into
// b. A recognised retry writes nothing and returns the original result; its
// outcome says whether that append is committed or still in this group.
func (s *sequencer) add(req logstore.AppendRequest, b backend.Batch) (res logstore.AppendResult, out outcome, err error) {
	st, err := s.stream(req.Stream)
	if err != nil {
		return res, added, err
	}
	if !req.Expected.Matches(st.version) {
		res, ok, err := s.retryOf(req, st)
		switch {
		case err != nil:
			return res, added, err
		case ok && res.Version > st.base:
			return res, retryInGroup, nil
		case ok:
			return res, retryCommitted, nil
		}
		return res, added, &logstore.WrongExpectedVersionError{Stream: req.Stream, Expected: req.Expected, Actual: st.version}
	}
	for _, e := range req.Events {
		if e.ID == "" {
			continue
		}
		v, found, err := s.idVersion(req.Stream, st, e.ID)
		if err != nil {
			return res, added, err
		}
		if found {
			return res, added, fmt.Errorf("%w: id %q of stream %q is used by version %d", logstore.ErrDuplicateID, e.ID, req.Stream, v)
		}
	}
	if req.At != 0 && req.At != s.head+1 {
		return res, added, fmt.Errorf("%w: stream %q: its first event would get offset %d, not %d", logstore.ErrWrongOffset, req.Stream, s.head+1, req.At)
	}
	res.First = s.head + 1
	at := s.now
	if !req.Time.IsZero() {
		at = req.Time.UTC()
	}
	for _, e := range req.Events {
		s.head++
		st.version++
		r := logstore.Record{Event: e, Stream: req.Stream, Offset: s.head, Version: st.version, Time: at}
		s.l.encode(b, &r)
		s.records = append(s.records, r)
		st.added = append(st.added, addedEvent{offset: s.head, id: e.ID})
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
// in the same order.
func (s *sequencer) retryOf(req logstore.AppendRequest, st *streamState) (logstore.AppendResult, bool, error) {
	var res logstore.AppendResult
	if req.Expected < 0 || uint64(req.Expected)+uint64(len(req.Events)) > st.version {
		return res, false, nil
	}
	for _, e := range req.Events {
		if e.ID == "" {
			return res, false, nil
		}
	}
	for i, e := range req.Events {
		v := uint64(req.Expected) + uint64(i) + 1
		off, id, err := s.eventAt(req.Stream, st, v)
		if err != nil {
			return res, false, err
		}
		if id != e.ID {
			return res, false, nil
		}
		if i == 0 {
			res.First = off
		}
		res.Last = off
	}
	res.Version = uint64(req.Expected) + uint64(len(req.Events))
	return res, true, nil
}

// eventAt returns the offset and id of version v of the stream.
func (s *sequencer) eventAt(stream string, st *streamState, v uint64) (logstore.Offset, string, error) {
	if v > st.base {
		a := st.added[v-st.base-1]
		return a.offset, a.id, nil
	}
	rec, err := s.l.getVersion(stream, v)
	if err != nil {
		return 0, "", err
	}
	return rec.Offset, rec.ID, nil
}

func (s *sequencer) idVersion(stream string, st *streamState, id string) (uint64, bool, error) {
	if v, ok := st.ids[id]; ok {
		return v, true, nil
	}
	val, found, err := s.l.kv.Get(record.IDKey(stream, id))
	if err != nil || !found {
		return 0, false, err
	}
	v, err := record.ParseUint64(val, record.Describe(record.IDKey(stream, id)))
	if err != nil {
		return 0, false, &logstore.CorruptionError{Key: fmt.Sprintf("id index of stream %q id %q", stream, id), Err: err}
	}
	return v, true, nil
}
