package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// event is one line of go test -json (cmd/test2json), with the build events
// that go test adds.
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
	ImportPath  string // build-output and build-fail
}

// test is what happened to one test or subtest.
type test struct {
	name    string
	result  string // pass, fail, skip; "" while it runs
	output  strings.Builder
	elapsed float64
}

// pkg is what happened to one package.
type pkg struct {
	name   string
	result string // pass, fail, skip (no test files); "" while it runs
	// noTests is set at the end of a package that ran no test (it has no
	// test files, or none that -run selected).
	noTests bool
	output  strings.Builder
	tests   map[string]*test
	order   []string // test names in the order they started
}

// skip is one skipped test and why.
type skip struct {
	pkg, test, reason string
}

// failure is one failed test, a test that never ended, or a package that
// failed outside its tests (build, TestMain, a panic outside a test).
type failure struct {
	pkg, test, what, output string
}

// report accumulates the events of a go test -json run.
type report struct {
	pkgs  map[string]*pkg
	order []string
	build map[string]*strings.Builder // build output by import path

	passed, failed, skipped int
	skips                   []skip
	failures                []failure
	malformed               int // lines that are not JSON events

	// onPackage and onFailure, when set, see each package as it ends and
	// each test failure as it happens, for the live output.
	onPackage func(p *pkg, summary string)
	onFailure func(p *pkg, t *test)
	verbose   io.Writer // every output line as it comes, when set
}

func newReport() *report {
	return &report{pkgs: map[string]*pkg{}, build: map[string]*strings.Builder{}}
}

// read consumes a JSON event stream. Lines that are not events (go test
// writes some, such as a failed build's, to its output in older versions)
// are kept as package-less output.
func (r *report) read(in io.Reader, tee io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if tee != nil {
			if _, err := tee.Write(append(line, '\n')); err != nil {
				return err
			}
		}
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			r.malformed++
			r.pkgFor("").output.Write(append(line, '\n'))
			if r.verbose != nil {
				fmt.Fprintf(r.verbose, "%s\n", line)
			}
			continue
		}
		r.add(e)
	}
	return sc.Err()
}

func (r *report) pkgFor(name string) *pkg {
	p := r.pkgs[name]
	if p == nil {
		p = &pkg{name: name, tests: map[string]*test{}}
		r.pkgs[name] = p
		r.order = append(r.order, name)
	}
	return p
}

func (p *pkg) testFor(name string) *test {
	t := p.tests[name]
	if t == nil {
		t = &test{name: name}
		p.tests[name] = t
		p.order = append(p.order, name)
	}
	return t
}

// add takes one event.
func (r *report) add(e event) {
	switch e.Action {
	case "build-output":
		b := r.build[e.ImportPath]
		if b == nil {
			b = &strings.Builder{}
			r.build[e.ImportPath] = b
		}
		b.WriteString(e.Output)
		if r.verbose != nil {
			fmt.Fprint(r.verbose, e.Output)
		}
		return
	case "build-fail":
		return
	}
	p := r.pkgFor(e.Package)
	if e.Test == "" {
		switch e.Action {
		case "output":
			p.output.WriteString(e.Output)
			if r.verbose != nil {
				fmt.Fprint(r.verbose, e.Output)
			}
		case "pass", "fail", "skip":
			p.result = e.Action
			r.endPackage(p, e)
		}
		return
	}
	t := p.testFor(e.Test)
	switch e.Action {
	case "output":
		t.output.WriteString(e.Output)
		if r.verbose != nil {
			fmt.Fprint(r.verbose, e.Output)
		}
	case "pass", "fail", "skip":
		t.result, t.elapsed = e.Action, e.Elapsed
		switch e.Action {
		case "pass":
			r.passed++
		case "fail":
			r.failed++
			r.failures = append(r.failures, failure{pkg: p.name, test: t.name, what: "failed", output: t.output.String()})
			if r.onFailure != nil {
				r.onFailure(p, t)
			}
		case "skip":
			r.skipped++
			r.skips = append(r.skips, skip{pkg: p.name, test: t.name, reason: skipReason(t.output.String())})
		}
		// The output of a test that ended is no longer needed.
		t.output = strings.Builder{}
	}
}

// endPackage records the package's own failures: tests that started and
// never ended, and a failure outside any test.
func (r *report) endPackage(p *pkg, e event) {
	unfinished := 0
	for _, name := range p.order {
		t := p.tests[name]
		if t.result != "" {
			continue
		}
		unfinished++
		r.failed++
		t.result = "fail"
		r.failures = append(r.failures, failure{pkg: p.name, test: name,
			what: "never ended: the test binary died while it ran (a panic, os.Exit or a time-out)", output: t.output.String()})
	}
	if p.result == "fail" {
		if f, ok := r.packageFailure(p, e); ok {
			r.failures = append(r.failures, f)
		}
	}
	p.noTests = len(p.order) == 0 && p.result != "fail"
	if r.onPackage != nil {
		r.onPackage(p, packageLine(p))
	}
	// A package that ended needs no more of its output, except for a
	// failure, which was copied.
	p.output = strings.Builder{}
	p.tests = map[string]*test{}
	p.order = nil
}

// packageFailure is the failure of a package that failed, unless its
// failed tests say it all.
func (r *report) packageFailure(p *pkg, e event) (failure, bool) {
	failedTests := false
	for _, f := range r.failures {
		if f.pkg == p.name {
			failedTests = true
			break
		}
	}
	out := p.output.String()
	if e.FailedBuild != "" {
		if b := r.build[e.FailedBuild]; b != nil {
			out = b.String() + out
		}
	}
	what := "failed"
	switch {
	case e.FailedBuild != "":
		what = "failed to build (" + e.FailedBuild + ")"
	case !failedTests:
		what = "failed outside any test (TestMain, a panic outside a test, a time-out or a leak check)"
	case !meaningful(out):
		return failure{}, false
	}
	return failure{pkg: p.name, what: what, output: out}, true
}

// meaningful reports whether a package's own output says more than its
// result.
func meaningful(output string) bool {
	for _, l := range strings.Split(output, "\n") {
		switch {
		case l == "", l == "FAIL", l == "PASS", strings.HasPrefix(l, "FAIL\t"), strings.HasPrefix(l, "ok  \t"), strings.HasPrefix(l, "coverage: "):
		default:
			return true
		}
	}
	return false
}

// packageLine is the line go test prints for a package at its end ("ok
// pkg 1.2s coverage: ...", "FAIL pkg 3.4s", "? pkg [no test files]").
func packageLine(p *pkg) string {
	lines := strings.Split(strings.TrimRight(p.output.String(), "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if strings.HasPrefix(l, "ok  \t") || strings.HasPrefix(l, "FAIL\t") || strings.HasPrefix(l, "?   \t") {
			// With -coverpkg, go test lists every pattern.
			if i := strings.Index(l, "% of statements in "); i >= 0 {
				l = l[:i] + "% of the covered packages' statements"
			}
			return l
		}
		if strings.HasPrefix(l, "\t"+p.name+"\t") {
			// What go test -cover prints for a package without test
			// files.
			return "?   \t" + p.name + "\t[no test files]"
		}
	}
	switch p.result {
	case "pass":
		return "ok  \t" + p.name
	case "skip":
		return "?   \t" + p.name
	}
	return "FAIL\t" + p.name
}

// finish records the packages that never ended: the stream stopped early.
func (r *report) finish() {
	for _, name := range r.order {
		p := r.pkgs[name]
		if name == "" || p.result != "" {
			continue
		}
		p.result = "fail"
		r.endPackage(p, event{})
		r.failures = append(r.failures, failure{pkg: name, what: "has no result: go test stopped before the package ended"})
	}
	if p := r.pkgs[""]; p != nil && strings.TrimSpace(p.output.String()) != "" {
		r.failures = append(r.failures, failure{what: "go test wrote lines that are not test events", output: p.output.String()})
	}
}

// logEntry matches the first line of a t.Log, t.Skip or t.Error entry:
// four spaces, then file.go:123: and the message.
var logEntry = regexp.MustCompile(`^ {4}(\S+\.go:\d+: )(.*)$`)

// skipReason is the last log entry of a skipped test's output: the message
// of its t.Skip. The file and line come after the message.
func skipReason(output string) string {
	reason, where := "", ""
	for _, l := range strings.Split(output, "\n") {
		if m := logEntry.FindStringSubmatch(l); m != nil {
			reason, where = strings.TrimSpace(m[2]), strings.TrimSuffix(m[1], ": ")
		}
	}
	if reason == "" && where == "" {
		return "(no message)"
	}
	const max = 240
	if len(reason) > max {
		reason = reason[:max] + "..."
	}
	return reason + " (" + where + ")"
}

// printFailures prints every failure with its output.
func (r *report) printFailures(w io.Writer) {
	if len(r.failures) == 0 {
		return
	}
	fmt.Fprintf(w, "\n=== FAILURES (%d)\n", len(r.failures))
	for _, f := range r.failures {
		name := f.pkg
		if f.test != "" {
			name += " " + f.test
		}
		if name == "" {
			name = "go test"
		}
		fmt.Fprintf(w, "\n--- %s %s\n", name, f.what)
		if out := strings.TrimRight(f.output, "\n"); out != "" {
			fmt.Fprintln(w, out)
		}
	}
	fmt.Fprintln(w)
}

// printSkips prints the skipped tests by package and reason.
func (r *report) printSkips(w io.Writer) {
	var noTests []string
	for _, name := range r.order {
		if p := r.pkgs[name]; name != "" && p.noTests {
			noTests = append(noTests, relative(name))
		}
	}
	if len(noTests) > 0 {
		fmt.Fprintf(w, "packages that ran no test (no test files, or none selected) (%d): %s\n", len(noTests), strings.Join(noTests, ", "))
	}
	if len(r.skips) == 0 {
		fmt.Fprintln(w, "skipped tests: none")
		return
	}
	fmt.Fprintf(w, "skipped tests: %d, by package and reason:\n", len(r.skips))
	type group struct {
		pkg, reason string
		tests       []string
	}
	var groups []*group
	index := map[[2]string]*group{}
	for _, s := range r.skips {
		k := [2]string{s.pkg, s.reason}
		g := index[k]
		if g == nil {
			g = &group{pkg: s.pkg, reason: s.reason}
			index[k] = g
			groups = append(groups, g)
		}
		g.tests = append(g.tests, s.test)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].pkg < groups[j].pkg })
	last := ""
	for _, g := range groups {
		if g.pkg != last {
			n := 0
			for _, s := range r.skips {
				if s.pkg == g.pkg {
					n++
				}
			}
			fmt.Fprintf(w, "  %s: %d\n", relative(g.pkg), n)
			last = g.pkg
		}
		names := g.tests
		more := ""
		if len(names) > 4 {
			names, more = names[:4], fmt.Sprintf(" and %d more", len(g.tests)-4)
		}
		fmt.Fprintf(w, "    %4d  %s\n          %s%s\n", len(g.tests), g.reason, strings.Join(names, ", "), more)
	}
}

// relative is a package's path in the module ("." for the root).
func relative(pkg string) string {
	if pkg == module {
		return "."
	}
	return strings.TrimPrefix(pkg, module+"/")
}

// counts is the closing line.
func (r *report) counts() string {
	return fmt.Sprintf("tests: %d passed, %d failed, %d skipped", r.passed, r.failed, r.skipped)
}

// failedAny reports whether the run holds any failure.
func (r *report) failedAny() bool { return len(r.failures) > 0 || r.failed > 0 }
