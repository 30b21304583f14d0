package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/durablelog/eventstore"
	"github.com/durablelog/eventstore/internal/snapfile"
	"github.com/stretchr/testify/require"
)

var snapshotTests = []storeTest{
	{"PropertyRecoveredStateEqualsFold", testSnapshotProperty},
	{"RestoreNewestReplayTail", testRestoreNewest},
	{"RetentionKeepsNewest", testRetention},
	{"DamagedNewestFallsBack", testDamagedNewest},
	{"AllDamagedFullReplay", testAllDamaged},
	{"FingerprintMismatchReplays", testFingerprintMismatch},
	{"FailedSnapshotKeepsAppending", testFailedSnapshot},
	{"CrashLeftoversIgnored", testCrashLeftovers},
	{"SnapshotPastHeadIsCorruption", testSnapshotPastHead},
	{"SnapshotPastHeadNoSyncReported", testSnapshotPastHeadNoSync},
	{"Policies", testPolicies},
}

func snapshotFiles(t testing.TB, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "snapshots", "snap-*.snap"))
	require.NoError(t, err)
	slices.Sort(matches)
	return matches // oldest first
}

func openSM(t testing.TB, h Harness, dir string, sm *HashState, extra ...eventstore.Option) *eventstore.Store {
	t.Helper()
	return h.open(t, dir, append([]eventstore.Option{eventstore.WithStateMachine(sm)}, extra...)...)
}

// testSnapshotProperty runs random appends, snapshots and reopens; after each
// reopen the recovered state equals a fresh fold over the whole log.
func testSnapshotProperty(t *testing.T, h Harness) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := h.dir(t)
	policy := eventstore.EveryN(uint64(5 + rng.IntN(20)))
	sm := &HashState{}
	s := openSM(t, h, dir, sm, eventstore.WithSnapshotPolicy(policy))
	for round := range 12 {
		for range rng.IntN(40) {
			n := 1 + rng.IntN(4)
			events := make([]eventstore.Event, n)
			for i := range events {
				events[i] = ev("T", fmt.Sprint(rng.Uint64()))
			}
			mustAppend(t, s, fmt.Sprint("s", rng.IntN(5)), eventstore.Any, events...)
			if rng.IntN(15) == 0 {
				require.NoError(t, s.Snapshot(context.Background()))
			}
		}
		requireFolded(t, s, sm)
		require.NoError(t, s.Close(), "round %d (seed %d)", round, seed)
		sm = &HashState{}
		s = openSM(t, h, dir, sm, eventstore.WithSnapshotPolicy(policy))
		requireFolded(t, s, sm)
	}
	require.NoError(t, s.Close())
}

func testRestoreNewest(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := openSM(t, h, dir, &HashState{}, eventstore.WithSnapshotPolicy(eventstore.EveryN(10)))
	fill(t, s, 55, "a", "b")
	require.NoError(t, s.Close())
	files := snapshotFiles(t, dir)
	require.NotEmpty(t, files)
	// Snapshots land on multiples of 10 (a trigger may be skipped while
	// earlier snapshots are being written).
	hdr, err := snapfile.ReadHeader(files[len(files)-1])
	require.NoError(t, err)
	newest := eventstore.Offset(hdr.Offset)
	require.Zero(t, newest%10)
	sm := &HashState{}
	s = openSM(t, h, dir, sm, eventstore.WithSnapshotPolicy(eventstore.EveryN(10)))
	defer s.Close()
	rep := s.LastRecovery()
	require.Equal(t, newest, rep.SnapshotOffset)
	require.Equal(t, uint64(55-newest), rep.EventsReplayed)
	require.Empty(t, rep.Skipped)
	require.Contains(t, rep.SnapshotFile, "snap-")
	requireFolded(t, s, sm)
	require.Equal(t, newest, s.SnapshotStatus().Last)
}

func testRetention(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := openSM(t, h, dir, &HashState{}, eventstore.WithSnapshotPolicy(eventstore.EveryN(2)), eventstore.WithSnapshotRetention(2))
	fill(t, s, 19, "a")
	// Triggers that find the writer's queue full are skipped, so which
	// offsets got a snapshot depends on timing; the final one does not.
	mustAppend(t, s, "a", eventstore.Any, ev("T", "20"))
	require.NoError(t, s.Snapshot(context.Background()))
	require.NoError(t, s.Close())
	files := snapshotFiles(t, dir)
	require.Len(t, files, 2)
	require.True(t, strings.HasSuffix(files[1], snapfile.Name(20)), files)
	require.Less(t, files[0], files[1])
}

// damage applies one kind of damage to a file.
func damage(t testing.TB, path string, kind int) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	switch kind {
	case 0:
		b[len(b)-3] ^= 0x40
		require.NoError(t, os.WriteFile(path, b, 0o644))
		return "flipped byte"
	case 1:
		require.NoError(t, os.WriteFile(path, b[:len(b)/2], 0o644))
		return "truncated"
	case 2:
		for i := 0; i < len(b) && i < 4096; i++ {
			b[i] = 0
		}
		require.NoError(t, os.WriteFile(path, b, 0o644))
		return "zeroed block"
	default:
		b[10] ^= 0x01 // in the header: the offset
		require.NoError(t, os.WriteFile(path, b, 0o644))
		return "header bit"
	}
}

func testDamagedNewest(t *testing.T, h Harness) {
	for kind := range 4 {
		dir := h.dir(t)
		s := openSM(t, h, dir, &HashState{}, eventstore.WithSnapshotPolicy(eventstore.EveryN(10)))
		fill(t, s, 35, "a", "b")
		require.NoError(t, s.Close())
		files := snapshotFiles(t, dir)
		require.Len(t, files, 3)
		what := damage(t, files[2], kind)
		sm := &HashState{}
		s = openSM(t, h, dir, sm, eventstore.WithSnapshotPolicy(eventstore.EveryN(10)))
		rep := s.LastRecovery()
		require.Equal(t, eventstore.Offset(20), rep.SnapshotOffset, what)
		require.Equal(t, uint64(15), rep.EventsReplayed, what)
		require.Len(t, rep.Skipped, 1, what)
		require.Equal(t, files[2], rep.Skipped[0].File)
		require.Contains(t, rep.Skipped[0].Reason, "damaged", what)
		requireFolded(t, s, sm)
		require.NoError(t, s.Close())
		_, err := os.Stat(files[2] + ".broken")
		require.NoError(t, err, "a damaged snapshot is set aside as .broken")
	}
}

func testAllDamaged(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := openSM(t, h, dir, &HashState{}, eventstore.WithSnapshotPolicy(eventstore.EveryN(10)))
	fill(t, s, 35, "a", "b")
	require.NoError(t, s.Close())
	for i, f := range snapshotFiles(t, dir) {
		damage(t, f, i%3)
	}
	sm := &HashState{}
	s = openSM(t, h, dir, sm, eventstore.WithSnapshotPolicy(eventstore.Never()))
	defer s.Close()
	rep := s.LastRecovery()
	require.Equal(t, eventstore.Offset(0), rep.SnapshotOffset)
	require.Equal(t, uint64(35), rep.EventsReplayed)
	require.Len(t, rep.Skipped, 3)
	requireFolded(t, s, sm)
}

func testFingerprintMismatch(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := openSM(t, h, dir, &HashState{FingerprintValue: "v1"}, eventstore.WithSnapshotPolicy(eventstore.EveryN(10)))
	fill(t, s, 25, "a")
	require.NoError(t, s.Close())
	sm := &HashState{FingerprintValue: "v2"}
	s = openSM(t, h, dir, sm, eventstore.WithSnapshotPolicy(eventstore.Never()))
	rep := s.LastRecovery()
	require.Equal(t, eventstore.Offset(0), rep.SnapshotOffset)
	require.Equal(t, uint64(25), rep.EventsReplayed)
	require.Len(t, rep.Skipped, 2)
	require.Contains(t, rep.Skipped[0].Reason, "fingerprint")
	requireFolded(t, s, sm)
	require.NoError(t, s.Close())
	// The same fingerprint uses the snapshot again.
	s = openSM(t, h, dir, &HashState{FingerprintValue: "v1"})
	require.Equal(t, eventstore.Offset(20), s.LastRecovery().SnapshotOffset)
	require.NoError(t, s.Close())
}

func testFailedSnapshot(t *testing.T, h Harness) {
	sm := &HashState{}
	sm.FailSnapshot.Store(true)
	s, dir := h.newStore(t, eventstore.WithStateMachine(sm), eventstore.WithSnapshotPolicy(eventstore.EveryN(5)))
	fill(t, s, 5, "a") // the trigger fails
	st := s.SnapshotStatus()
	require.Equal(t, uint64(1), st.Failed)
	require.ErrorIs(t, st.LastError, ErrInjected)
	require.Empty(t, snapshotFiles(t, dir))
	sm.FailSnapshot.Store(false)
	fill(t, s, 1, "a") // a failed snapshot is tried again at the next commit
	require.NoError(t, s.Snapshot(context.Background()), "a barrier: the retry's outcome")
	st = s.SnapshotStatus()
	require.NoError(t, st.LastError)
	require.Equal(t, eventstore.Offset(6), st.Last, "the retry ran at offset 6, not 5 events later")
	sm.FailSnapshot.Store(true)
	fill(t, s, 5, "a")
	require.ErrorIs(t, s.Snapshot(context.Background()), ErrInjected, "an explicit snapshot reports the failure")
	sm.FailSnapshot.Store(false)
	require.NoError(t, s.Snapshot(context.Background()), "and the next call tries again")
	require.Equal(t, eventstore.Offset(11), s.SnapshotStatus().Last)
	requireFolded(t, s, sm)
}

func testCrashLeftovers(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := openSM(t, h, dir, &HashState{}, eventstore.WithSnapshotPolicy(eventstore.EveryN(10)))
	fill(t, s, 25, "a")
	require.NoError(t, s.Close())
	snaps := filepath.Join(dir, "snapshots")
	// A crash between write and rename leaves a temporary file; a crash
	// while writing, a partial one.
	leftover := filepath.Join(snaps, snapfile.Name(25)+".tmp-123")
	require.NoError(t, os.WriteFile(leftover, []byte("ESSNAP\x00\x01partial"), 0o644))
	sm := &HashState{}
	s = openSM(t, h, dir, sm)
	defer s.Close()
	require.Equal(t, eventstore.Offset(20), s.LastRecovery().SnapshotOffset)
	require.Empty(t, s.LastRecovery().Skipped)
	_, err := os.Stat(leftover)
	require.True(t, os.IsNotExist(err), "recovery removes unfinished snapshot files")
	requireFolded(t, s, sm)
}

// writeSnapshotAt writes a valid HashState snapshot claiming offset off.
func writeSnapshotAt(t testing.TB, dir string, off uint64) {
	t.Helper()
	snaps := filepath.Join(dir, "snapshots")
	require.NoError(t, os.MkdirAll(snaps, 0o755))
	w, err := snapfile.Create(snaps, off, "")
	require.NoError(t, err)
	require.NoError(t, (&HashState{}).Snapshot(w))
	require.NoError(t, w.Flush())
	_, err = w.Commit(snapfile.Hooks{})
	require.NoError(t, err)
}

func testSnapshotPastHead(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := openSM(t, h, dir, &HashState{})
	fill(t, s, 5, "a")
	require.NoError(t, s.Close())
	writeSnapshotAt(t, dir, 9)
	_, err := eventstore.Open(dir, h.storeOptions(t, dir, eventstore.WithStateMachine(&HashState{}))...)
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	require.Contains(t, err.Error(), "lost 4 acknowledged events")
}

func testSnapshotPastHeadNoSync(t *testing.T, h Harness) {
	dir := h.dir(t)
	s := openSM(t, h, dir, &HashState{}, eventstore.WithDurability(eventstore.NoSync))
	fill(t, s, 5, "a")
	require.NoError(t, s.Close())
	writeSnapshotAt(t, dir, 9)
	sm := &HashState{}
	s = openSM(t, h, dir, sm, eventstore.WithDurability(eventstore.NoSync))
	defer s.Close()
	rep := s.LastRecovery()
	require.Equal(t, uint64(4), rep.LostEvents)
	require.Len(t, rep.Skipped, 1)
	requireFolded(t, s, sm)
}

// snapshotOffsets returns the offsets of the snapshots in dir, oldest first.
func snapshotOffsets(t testing.TB, dir string) []eventstore.Offset {
	t.Helper()
	var out []eventstore.Offset
	for _, f := range snapshotFiles(t, dir) {
		hdr, err := snapfile.ReadHeader(f)
		require.NoError(t, err)
		out = append(out, eventstore.Offset(hdr.Offset))
	}
	slices.Sort(out)
	return out
}

// testPolicies makes 12 single appends and closes the store under each
// policy, keeping every snapshot, and checks the offsets the snapshots were
// taken at, and that a reopen restores the newest.
func testPolicies(t *testing.T, h Harness) {
	const n = 12
	cases := []struct {
		name   string
		policy eventstore.SnapshotPolicy
		want   []eventstore.Offset
	}{
		{"Never", eventstore.Never(), nil},
		{"OnClose", eventstore.OnClose(), []eventstore.Offset{12}},
		{"EveryN(5)", eventstore.EveryN(5), []eventstore.Offset{5, 10}},
		{"EveryN(0)", eventstore.EveryN(0), nil},
		{"EveryN(12)", eventstore.EveryN(12), []eventstore.Offset{12}},
		{"AnyOf(EveryN(5),OnClose)", eventstore.AnyOf(eventstore.EveryN(5), eventstore.OnClose()), []eventstore.Offset{5, 10, 12}},
		{"AnyOf(Never,EveryN(4))", eventstore.AnyOf(eventstore.Never(), eventstore.EveryN(4)), []eventstore.Offset{4, 8, 12}},
		{"AnyOf()", eventstore.AnyOf(), nil},
		{"Adaptive(hour)", eventstore.Adaptive(time.Hour), nil},
		// A budget that every event exceeds: a snapshot after every
		// append. A trigger that finds four snapshots still being written
		// is skipped, so only the first four are sure, and the last, which
		// Close takes if its trigger was skipped.
		{"Adaptive(tiny budget)", eventstore.Adaptive(time.Nanosecond), nil},
	}
	for _, c := range cases {
		dir := h.dir(t)
		s := openSM(t, h, dir, &HashState{}, eventstore.WithSnapshotPolicy(c.policy), eventstore.WithSnapshotRetention(100))
		fill(t, s, n, "a")
		require.NoError(t, s.Close())
		got := snapshotOffsets(t, dir)
		if c.name == "Adaptive(tiny budget)" {
			require.Subset(t, got, []eventstore.Offset{1, 2, 3, 4, 12}, c.name)
			require.LessOrEqual(t, got[len(got)-1], eventstore.Offset(n), c.name)
			c.want = got
		} else {
			require.Equal(t, c.want, got, c.name)
		}
		sm := &HashState{}
		s = openSM(t, h, dir, sm, eventstore.WithSnapshotPolicy(eventstore.Never()))
		var newest eventstore.Offset
		if len(c.want) > 0 {
			newest = c.want[len(c.want)-1]
		}
		require.Equal(t, newest, s.LastRecovery().SnapshotOffset, "%s: the newest snapshot is restored", c.name)
		require.Equal(t, uint64(n)-uint64(newest), s.LastRecovery().EventsReplayed, c.name)
		requireFolded(t, s, sm)
		require.NoError(t, s.Close())
	}
}
