package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/run.json is go test -json over three packages: fx/a with a
// passing, a failing and a skipped test and a skipped subtest; fx/b whose
// test panics in a goroutine (the test never ends); fx/c that does not
// build.
func TestReportOfARun(t *testing.T) {
	f, err := os.Open("testdata/run.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := newReport()
	var ended []string
	r.onPackage = func(p *pkg, line string) { ended = append(ended, line) }
	var tee bytes.Buffer
	if err := r.read(f, &tee); err != nil {
		t.Fatal(err)
	}
	r.finish()
	if got, want := r.counts(), "tests: 4 passed, 2 failed, 2 skipped"; got != want {
		t.Errorf("counts: %q, want %q", got, want)
	}
	raw, _ := os.ReadFile("testdata/run.json")
	if !bytes.Equal(tee.Bytes(), raw) {
		t.Error("the tee is not a copy of the input")
	}
	if len(ended) != 3 || !strings.HasPrefix(ended[0], "FAIL\tfx/a\t") || ended[1] != "FAIL\tfx/c [build failed]" || !strings.HasPrefix(ended[2], "FAIL\tfx/b\t") {
		t.Errorf("package lines: %q", ended)
	}

	var failures []string
	for _, f := range r.failures {
		failures = append(failures, f.pkg+" "+f.test+": "+f.what)
	}
	want := []string{
		"fx/a TestFail: failed",
		"fx/c : failed to build (fx/c [fx/c.test])",
		"fx/b TestPanicGoroutine: never ended: the test binary died while it ran (a panic, os.Exit or a time-out)",
	}
	if strings.Join(failures, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(failures, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(r.failures[0].output, "want 1, got 2") {
		t.Errorf("the failed test's output is missing: %q", r.failures[0].output)
	}
	if !strings.Contains(r.failures[1].output, "undefined: undefined") {
		t.Errorf("the build output is missing: %q", r.failures[1].output)
	}
	if !strings.Contains(r.failures[2].output, "panic: boom") {
		t.Errorf("the panic is missing: %q", r.failures[2].output)
	}

	var out bytes.Buffer
	r.printSkips(&out)
	for _, s := range []string{"skipped tests: 2", "fx/a: 2", "no /dev/fuse: install it (a_test.go:7)", "TestSkip", "not selected (a_test.go:9)", "TestSub/x"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the skip summary lacks %q:\n%s", s, out.String())
		}
	}
	out.Reset()
	r.printFailures(&out)
	if !strings.Contains(out.String(), "=== FAILURES (3)") {
		t.Errorf("failures:\n%s", out.String())
	}
}

func TestReportOfATruncatedRun(t *testing.T) {
	in := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
not an event
`
	r := newReport()
	if err := r.read(strings.NewReader(in), nil); err != nil {
		t.Fatal(err)
	}
	r.finish()
	if !r.failedAny() || r.failed != 1 {
		t.Fatalf("a run cut short passed: %+v", r.failures)
	}
	var whats []string
	for _, f := range r.failures {
		whats = append(whats, f.what)
	}
	got := strings.Join(whats, "\n")
	for _, s := range []string{"never ended", "has no result", "not test events"} {
		if !strings.Contains(got, s) {
			t.Errorf("failures lack %q:\n%s", s, got)
		}
	}
}

func TestReportOfAPackageThatFailsOutsideItsTests(t *testing.T) {
	in := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Output":"goleak: Errors on successful test run: found unexpected goroutines\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
`
	r := newReport()
	if err := r.read(strings.NewReader(in), nil); err != nil {
		t.Fatal(err)
	}
	r.finish()
	if len(r.failures) != 1 || !strings.Contains(r.failures[0].what, "outside any test") || !strings.Contains(r.failures[0].output, "goleak") {
		t.Fatalf("failures: %+v", r.failures)
	}
}

func TestSkipReason(t *testing.T) {
	for _, tc := range []struct{ output, want string }{
		{"=== RUN   TestA\n    a_test.go:3: a log line\n    a_test.go:4: the reason\n        more of it\n--- SKIP: TestA (0.00s)\n", "the reason (a_test.go:4)"},
		{"=== RUN   TestA\n--- SKIP: TestA (0.00s)\n", "(no message)"},
		{"    x_test.go:10: " + strings.Repeat("x", 300) + "\n", strings.Repeat("x", 240) + "... (x_test.go:10)"},
	} {
		if got := skipReason(tc.output); got != tc.want {
			t.Errorf("skipReason(%q) = %q, want %q", tc.output, got, tc.want)
		}
	}
}

func TestProfileMerge(t *testing.T) {
	a := "mode: atomic\n" +
		module + "/x/a.go:1.1,2.2 2 0\n" +
		module + "/x/a.go:3.1,4.2 3 5\n" +
		module + "/y/b.go:1.1,2.2 4 0\n"
	b := "mode: atomic\n" +
		module + "/x/a.go:1.1,2.2 2 7\n" +
		module + "/z/c.go:1.1,2.2 1 1\n"
	p := newProfile()
	if err := p.read(strings.NewReader(a), "a"); err != nil {
		t.Fatal(err)
	}
	if err := p.read(strings.NewReader(b), "b"); err != nil {
		t.Fatal(err)
	}
	got := p.byPackage()
	want := map[string]tally{module + "/x": {5, 5}, module + "/y": {0, 4}, module + "/z": {1, 1}}
	if len(got) != len(want) {
		t.Fatalf("byPackage: %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
	var out bytes.Buffer
	if err := p.write(&out); err != nil {
		t.Fatal(err)
	}
	wantOut := "mode: atomic\n" +
		module + "/x/a.go:1.1,2.2 2 7\n" +
		module + "/x/a.go:3.1,4.2 3 5\n" +
		module + "/y/b.go:1.1,2.2 4 0\n" +
		module + "/z/c.go:1.1,2.2 1 1\n"
	if out.String() != wantOut {
		t.Errorf("merged profile:\n%s\nwant:\n%s", out.String(), wantOut)
	}

	if err := p.read(strings.NewReader(module+"/x/a.go:1.1,2.2 3 1\n"), "c"); err == nil {
		t.Error("a block with another statement count was merged")
	}
	if err := p.read(strings.NewReader("garbage\n"), "d"); err == nil {
		t.Error("a malformed line was accepted")
	}
}

func TestGroup(t *testing.T) {
	for pkg, want := range map[string]string{
		module:                        "store (the root package)",
		module + "/backend":           "engine contract and log (backend, logstore/...)",
		module + "/logstore/kvlog":    "engine contract and log (backend, logstore/...)",
		module + "/backends/rocksdb":  "engines (backends/...)",
		module + "/internal/record":   "formats and helpers (internal/...)",
		module + "/cmd/eventstore":    "command (cmd/eventstore)",
		module + "/prommetrics":       "metrics export (prommetrics)",
		module + "/somethingelse/pkg": "somethingelse",
	} {
		if got, _ := group(pkg); got != want {
			t.Errorf("group(%s) = %q, want %q", pkg, got, want)
		}
	}
}

func TestCoverThreshold(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "c.out")
	body := "mode: set\n" + module + "/x/a.go:1.1,2.2 9 1\n" + module + "/x/a.go:3.1,4.2 1 0\n"
	if err := os.WriteFile(prof, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(dir, "merged.out")
	if err := coverCmd([]string{"-threshold", "90", "-o", merged, prof}, io.Discard); err != nil {
		t.Errorf("90%% against a threshold of 90%%: %v", err)
	}
	if err := coverCmd([]string{"-threshold", "90.5", prof}, io.Discard); err == nil || !strings.Contains(err.Error(), "below the threshold") {
		t.Errorf("90%% against a threshold of 90.5%%: %v", err)
	}
	if err := coverCmd([]string{"-threshold", "90.5", "-no-threshold", "a narrowed run", prof}, io.Discard); err != nil {
		t.Errorf("a threshold not enforced: %v", err)
	}
	got, err := os.ReadFile(merged)
	if err != nil || string(got) != body {
		t.Errorf("merged profile %q (%v), want %q", got, err, body)
	}
}

func TestHasStatements(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("decl.go", "package p\n\nimport \"sync/atomic\"\n\nvar X atomic.Bool\n\nfunc Empty() {}\n")
	write("code.go", "package p\n\nfunc F() int { return 1 }\n")
	if has, err := hasStatements(dir, []string{"decl.go"}); err != nil || has {
		t.Errorf("declarations alone: %v, %v", has, err)
	}
	if has, err := hasStatements(dir, []string{"decl.go", "code.go"}); err != nil || !has {
		t.Errorf("a function with a body: %v, %v", has, err)
	}
}

func TestPackageLine(t *testing.T) {
	p := &pkg{name: "p", result: "pass"}
	p.output.WriteString("PASS\nok  \tp\t1.5s\tcoverage: 27.6% of statements in a, b/..., c\n")
	if got, want := packageLine(p), "ok  \tp\t1.5s\tcoverage: 27.6% of the covered packages' statements"; got != want {
		t.Errorf("packageLine: %q, want %q", got, want)
	}
	p = &pkg{name: "c", result: "pass"}
	p.output.WriteString("\tc\t\tcoverage: 0.0% of statements\n")
	if got, want := packageLine(p), "?   \tc\t[no test files]"; got != want {
		t.Errorf("packageLine: %q, want %q", got, want)
	}
	p = &pkg{name: "q", result: "skip"}
	p.output.WriteString("?   \tq\t[no test files]\n")
	if got, want := packageLine(p), "?   \tq\t[no test files]"; got != want {
		t.Errorf("packageLine: %q, want %q", got, want)
	}
}
