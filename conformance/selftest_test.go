package conformance

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The self-test of the suites: they must fail on engines that break the
// contract (flawedEngine, and fileEngine with syncDoesNotSync), and pass on
// the same engines without the flaw. A suite that fails must do so with
// ordinary test failures, within its time: no panic, no hang.

// selfTestEnv makes a sub-test of TestSuitesFailOnFlawedEngines run its suite
// on its flawed engine, in the child process the parent test starts.
const selfTestEnv = "EVENTSTORE_CONFORMANCE_SELFTEST"

// selfTestTimeout is the Harness.Timeout of the self-test's engines: a hang
// shows as a watchdog panic, which fails the self-test, within it.
const selfTestTimeout = 40 * time.Second

func flawedHarness(f flaw) Harness {
	name := "flawed"
	if f != noFlaw {
		name = string(f)
	}
	return Harness{Name: name, Engine: flawedEngine{flaw: f}, Volatile: true, Timeout: selfTestTimeout}
}

func fileHarness(f flaw, kills int) Harness {
	e := &fileEngine{flaw: f}
	name := "file"
	if f != noFlaw {
		name = "file-" + string(f)
	}
	return Harness{Name: name, Engine: e, PowerCut: func(testing.TB) { e.powerCut() }, Kills: kills, Timeout: selfTestTimeout}
}

// suites names the three suites.
var suites = map[string]func(*testing.T, Harness){
	"Backend":    RunBackend,
	"EventStore": RunEventStore,
	"Crash":      RunCrash,
}

// TestSuitesFailOnFlawedEngines runs each suite on each flawed engine in a
// child process (the suites take a real *testing.T), with -failfast, and
// requires it to fail with an ordinary test failure, in one of the tests
// meant to catch the flaw.
func TestSuitesFailOnFlawedEngines(t *testing.T) {
	cases := []struct {
		suite   string
		harness Harness
		// detectors are tests of the suite that catch the flaw: the
		// first test to fail must be one of them.
		detectors []string
		// whole runs the whole suite, without -failfast: every test
		// ends, most of them failing, and none hangs.
		whole bool
	}{
		{"Backend", flawedHarness(dropLastWrite), []string{"SetGetDelete"}, false},
		{"EventStore", flawedHarness(dropLastWrite), []string{"Append/OffsetsDenseFromOne", "Append/AtomicMultiEvent"}, false},
		{"Backend", flawedHarness(iteratorSkipsKey), []string{"BatchInvisibleUntilCommit", "IteratorOrderAndBounds"}, false},
		{"EventStore", flawedHarness(iteratorSkipsKey), []string{"Append/OffsetsDenseFromOne"}, false},
		{"Backend", flawedHarness(getIgnoresBatch), []string{"SetGetDelete"}, false},
		{"EventStore", flawedHarness(getIgnoresBatch), []string{"Append/OffsetsDenseFromOne", "Append/AtomicMultiEvent"}, false},
		{"Backend", fileHarness(syncDoesNotSync, 0), []string{"PowerCutKeepsSynced"}, false},
		{"EventStore", fileHarness(syncDoesNotSync, 0), []string{"PowerCut/SyncAppendsSurvive"}, false},
		{"Crash", fileHarness(syncDoesNotSync, 3), []string{"Kill9"}, false},
		{"Backend", flawedHarness(iteratorSwapsKeys), []string{"IteratorOrderAndBounds"}, true},
		{"EventStore", flawedHarness(iteratorSwapsKeys), []string{"Append/OffsetsDenseFromOne"}, true},
		{"EventStore", flawedHarness(dropLastWrite), []string{"Append/OffsetsDenseFromOne", "Append/AtomicMultiEvent"}, true},
	}
	for _, c := range cases {
		name := c.harness.Name + "/" + c.suite
		if c.whole {
			name += "Whole"
		}
		t.Run(name, func(t *testing.T) {
			if os.Getenv(selfTestEnv) != "" {
				suites[c.suite](t, c.harness) // in the child: must fail
				return
			}
			var args []string
			if !c.whole {
				args = append(args, "-test.failfast")
			}
			out, code := runSelf(t, args...)
			require.Equal(t, 1, code, "the suite must fail with test failures (exit status 1):\n%s", out)
			require.NotContains(t, out, "panic:", "the suite must fail, not crash or hang:\n%s", out)
			failed := failedTests(out, t.Name()+"/")
			require.NotEmpty(t, failed, "no failed test of the suite in:\n%s", out)
			require.Subset(t, c.detectors, failed[:1], "the first failure should be in a test that catches %s:\n%s", c.harness.Name, out)
			t.Logf("%s fails %s, first in %s", c.suite, c.harness.Name, failed[0])
		})
	}
}

// TestFlawedEngineWithoutFlaw: the wrapper of the flawed engines passes the
// suites when it has no flaw, so that their failures are the flaws'.
func TestFlawedEngineWithoutFlaw(t *testing.T) {
	h := flawedHarness(noFlaw)
	t.Run("Backend", func(t *testing.T) { RunBackend(t, h) })
	t.Run("EventStore", func(t *testing.T) { RunEventStore(t, h) })
}

// TestFileEngine: the file engine without its flaw passes the three suites,
// power cuts and kills included.
func TestFileEngine(t *testing.T) {
	h := fileHarness(noFlaw, 5)
	t.Run("Backend", func(t *testing.T) { RunBackend(t, h) })
	t.Run("EventStore", func(t *testing.T) { RunEventStore(t, h) })
	t.Run("Crash", func(t *testing.T) { RunCrash(t, h) })
}

// runSelf runs the test t again in a child process with selfTestEnv set, and
// returns its output and exit code.
func runSelf(t *testing.T, args ...string) (string, int) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	args = append([]string{"-test.run=" + testPattern(t.Name()), "-test.v", "-test.count=1", "-test.timeout=5m"}, args...)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), selfTestEnv+"=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	require.NoError(t, err, "run the child")
	return "", -1
}

var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

// failedTests returns the tests under prefix that failed, as paths below
// it, in the order their failures were reported, without the tests that
// failed because a sub-test did.
func failedTests(out, prefix string) []string {
	var names []string
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		if name, ok := strings.CutPrefix(m[1], prefix); ok {
			names = append(names, name)
		}
	}
	var leaves []string
	for _, n := range names {
		if !slices.ContainsFunc(names, func(o string) bool { return strings.HasPrefix(o, n+"/") }) {
			leaves = append(leaves, n)
		}
	}
	return leaves
}
