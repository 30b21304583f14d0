package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// module is the import path of the module whose coverage is reported.
const module = "github.com/durablelog/eventstore"

// block is one basic block of a coverage profile.
type block struct {
	file                string
	startLine, startCol int
	endLine, endCol     int
}

// profile is a set of merged coverage profiles: the statements and count
// of each block.
type profile struct {
	mode   string
	stmts  map[block]int
	counts map[block]int64
}

func newProfile() *profile {
	return &profile{stmts: map[block]int{}, counts: map[block]int64{}}
}

// read merges one profile in go test's text format (-coverprofile, go tool
// covdata textfmt). The counts of a block that several profiles hold add
// up.
func (p *profile) read(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" {
			continue
		}
		if mode, ok := strings.CutPrefix(line, "mode: "); ok {
			if p.mode == "" {
				p.mode = mode
			}
			continue
		}
		b, stmts, count, err := parseLine(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if old, ok := p.stmts[b]; ok && old != stmts {
			return fmt.Errorf("%s:%d: block %v has %d statements, and %d in another profile: profiles of different sources", name, n, b, stmts, old)
		}
		p.stmts[b] = stmts
		p.counts[b] += count
	}
	return sc.Err()
}

// parseLine parses "file.go:10.2,12.3 2 1".
func parseLine(line string) (block, int, int64, error) {
	bad := fmt.Errorf("not a coverage line: %q", line)
	colon := strings.LastIndex(line, ":")
	if colon < 0 {
		return block{}, 0, 0, bad
	}
	fields := strings.Fields(line[colon+1:])
	if len(fields) != 3 {
		return block{}, 0, 0, bad
	}
	b := block{file: line[:colon]}
	if _, err := fmt.Sscanf(fields[0], "%d.%d,%d.%d", &b.startLine, &b.startCol, &b.endLine, &b.endCol); err != nil {
		return block{}, 0, 0, bad
	}
	stmts, err1 := strconv.Atoi(fields[1])
	count, err2 := strconv.ParseInt(fields[2], 10, 64)
	if err1 != nil || err2 != nil {
		return block{}, 0, 0, bad
	}
	return b, stmts, count, nil
}

// write writes the merged profile in the text format, for go tool cover.
func (p *profile) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	mode := p.mode
	if mode == "" {
		mode = "set"
	}
	fmt.Fprintf(bw, "mode: %s\n", mode)
	blocks := make([]block, 0, len(p.stmts))
	for b := range p.stmts {
		blocks = append(blocks, b)
	}
	sort.Slice(blocks, func(i, j int) bool {
		a, b := blocks[i], blocks[j]
		if a.file != b.file {
			return a.file < b.file
		}
		if a.startLine != b.startLine {
			return a.startLine < b.startLine
		}
		return a.startCol < b.startCol
	})
	for _, b := range blocks {
		count := p.counts[b]
		if mode == "set" && count > 1 {
			count = 1
		}
		fmt.Fprintf(bw, "%s:%d.%d,%d.%d %d %d\n", b.file, b.startLine, b.startCol, b.endLine, b.endCol, p.stmts[b], count)
	}
	return bw.Flush()
}

// tally is a count of statements, and of those covered.
type tally struct{ covered, total int }

func (t *tally) add(u tally) { t.covered += u.covered; t.total += u.total }

func (t tally) percent() float64 {
	if t.total == 0 {
		return 0
	}
	return 100 * float64(t.covered) / float64(t.total)
}

func (t tally) String() string {
	return fmt.Sprintf("%5.1f%%  (%d of %d statements)", t.percent(), t.covered, t.total)
}

// byPackage tallies the statements of each package (the directory of each
// file's import path).
func (p *profile) byPackage() map[string]tally {
	out := map[string]tally{}
	for b, stmts := range p.stmts {
		pkg := path.Dir(b.file)
		t := out[pkg]
		t.total += stmts
		if p.counts[b] > 0 {
			t.covered += stmts
		}
		out[pkg] = t
	}
	return out
}

// groups are the parts of the module, in the order of the report.
var groups = []struct{ dirs, name string }{
	{"", "store (the root package)"},
	{"backend logstore", "engine contract and log (backend, logstore/...)"},
	{"internal", "formats and helpers (internal/...)"},
	{"backends", "engines (backends/...)"},
	{"prommetrics", "metrics export (prommetrics)"},
	{"cmd", "command (cmd/eventstore)"},
}

// group names the part of the module a package belongs to, and its rank in
// the report.
func group(pkg string) (string, int) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	first, _, _ := strings.Cut(rel, "/")
	for i, g := range groups {
		if first == "" && g.dirs == "" || first != "" && slices.Contains(strings.Fields(g.dirs), first) {
			return g.name, i
		}
	}
	return first, len(groups)
}

// coverCmd merges the profiles, prints the coverage to w and checks the
// threshold.
func coverCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("cover", flag.ExitOnError)
	threshold := fs.Float64("threshold", 0, "fail when the total coverage is below this percentage")
	pkgs := fs.String("pkgs", "", "comma-separated package patterns the report must cover (go list patterns): a package of them that has statements and no coverage data fails the report")
	out := fs.String("o", "", "write the merged profile to this file")
	base := fs.String("base", "", "a profile among the arguments to report alone too (the figure without the others)")
	why := fs.String("no-threshold", "", "report the threshold but do not enforce it, saying why")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("cover: name one or more profiles")
	}
	merged := newProfile()
	var alone *profile
	for _, name := range fs.Args() {
		if err := readProfile(merged, name); err != nil {
			return err
		}
		if name == *base {
			alone = newProfile()
			if err := readProfile(alone, name); err != nil {
				return err
			}
		}
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := errors.Join(merged.write(f), f.Close()); err != nil {
			return err
		}
	}

	tallies := merged.byPackage()
	var missing []string
	if *pkgs != "" {
		var err error
		missing, err = missingPackages(strings.Split(*pkgs, ","), tallies)
		if err != nil {
			return err
		}
	}

	names := make([]string, 0, len(tallies))
	for pkg := range tallies {
		names = append(names, pkg)
	}
	sort.Slice(names, func(i, j int) bool {
		gi, ri := group(names[i])
		gj, rj := group(names[j])
		if ri != rj || gi != gj {
			return ri < rj || ri == rj && gi < gj
		}
		return names[i] < names[j]
	})
	fmt.Fprintf(w, "coverage of the product code (threshold %.1f%% of all statements):\n", *threshold)
	var total tally
	byGroup := map[string]tally{}
	var groupOrder []string
	for _, pkg := range names {
		g, _ := group(pkg)
		if _, ok := byGroup[g]; !ok {
			groupOrder = append(groupOrder, g)
		}
		t := byGroup[g]
		t.add(tallies[pkg])
		byGroup[g] = t
		total.add(tallies[pkg])
	}
	for _, g := range groupOrder {
		fmt.Fprintf(w, "  %-50s %s\n", g, byGroup[g])
		for _, pkg := range names {
			if pg, _ := group(pkg); pg == g {
				fmt.Fprintf(w, "      %-46s %s\n", relative(pkg), tallies[pkg])
			}
		}
	}
	if alone != nil {
		var t tally
		for pkg, u := range alone.byPackage() {
			if _, ok := tallies[pkg]; ok {
				t.add(u)
			}
		}
		// The same statements, counted from the base profile alone.
		t.total = total.total
		fmt.Fprintf(w, "  %-50s %s\n", "total from "+filepath.Base(*base)+" alone", t)
	}
	fmt.Fprintf(w, "  %-50s %s\n", "total", total)
	for _, pkg := range missing {
		fmt.Fprintf(w, "  %s: no coverage data: no test and no run of the command reached it\n", pkg)
	}

	switch {
	case len(missing) > 0:
		return fmt.Errorf("cover: %d product package(s) have no coverage data", len(missing))
	case total.percent() >= *threshold:
		fmt.Fprintf(w, "coverage: %.1f%% >= %.1f%%: ok\n", total.percent(), *threshold)
	case *why != "":
		fmt.Fprintf(w, "coverage: %.1f%% is below %.1f%%; not enforced: %s\n", total.percent(), *threshold, *why)
	default:
		return fmt.Errorf("coverage: %.1f%% is below the threshold of %.1f%%: add tests to the packages with the lowest figures above", total.percent(), *threshold)
	}
	return nil
}

func readProfile(p *profile, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return p.read(f, name)
}

// missingPackages lists the packages that the patterns match, that have
// statements, and that no profile covers.
func missingPackages(patterns []string, tallies map[string]tally) ([]string, error) {
	args := append([]string{"list", "-json=ImportPath,Dir,GoFiles,CgoFiles"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", strings.Join(patterns, " "), err)
	}
	var missing []string
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath, Dir   string
			GoFiles, CgoFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		if _, ok := tallies[p.ImportPath]; ok {
			continue
		}
		has, err := hasStatements(p.Dir, append(p.GoFiles, p.CgoFiles...))
		if err != nil {
			return nil, err
		}
		if has {
			missing = append(missing, p.ImportPath)
		}
	}
	return missing, nil
}

// hasStatements reports whether any of the files has a function with a
// body: a package of declarations alone has nothing to cover.
func hasStatements(dir string, files []string) (bool, error) {
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return false, err
		}
		found := false
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				found = found || (n.Body != nil && len(n.Body.List) > 0)
			case *ast.FuncLit:
				found = found || len(n.Body.List) > 0
			}
			return !found
		})
		if found {
			return true, nil
		}
	}
	return false, nil
}
