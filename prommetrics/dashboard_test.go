package prommetrics_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/durablelog/eventstore/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

const (
	dashboardFile  = "../docs/grafana/eventstore-dashboard.json"
	operationsFile = "../docs/operations.md"
	recoveryFile   = "../docs/recovery.md"
)

// slug is the anchor GitHub gives a Markdown heading: lower case, without
// punctuation, spaces as hyphens.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// exported returns what a registry holding the collector of a real store
// exports: the metric families by name with their type, and the names of
// the series that PromQL can select (a histogram's _bucket, _sum and
// _count; a bare histogram name selects nothing).
func exported(t *testing.T) (families map[string]dto.MetricType, series map[string]bool) {
	t.Helper()
	s := open(t, filepath.Join(t.TempDir(), "orders"))
	defer s.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prommetrics.NewCollector(s))
	gathered, err := reg.Gather()
	require.NoError(t, err)
	families, series = map[string]dto.MetricType{}, map[string]bool{}
	for _, f := range gathered {
		families[f.GetName()] = f.GetType()
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				series[f.GetName()+suffix] = true
			}
		case dto.MetricType_SUMMARY:
			series[f.GetName()], series[f.GetName()+"_sum"], series[f.GetName()+"_count"] = true, true, true
		default:
			series[f.GetName()] = true
		}
	}
	require.Contains(t, families, "eventstore_appends_total")
	return families, series
}

// dashboard is the part of a Grafana dashboard that the test reads.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int     `json:"id"`
	Type       string  `json:"type"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"` // a collapsed row's
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

// TestDashboard reads the Grafana dashboard and checks it against the
// collector: every metric its PromQL expressions select is one the
// collector exports (histograms through _bucket, _sum or _count), every
// selector is filtered by the store variable, every metric of the collector
// is on some panel, and the panels have titles, targets and a place of their
// own on the grid.
func TestDashboard(t *testing.T) {
	families, series := exported(t)
	raw, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(raw, &d))
	require.NotEmpty(t, d.UID)
	require.NotEmpty(t, d.Title)

	var store string
	for _, v := range d.Templating.List {
		if v.Name == "store" {
			require.Equal(t, "query", v.Type)
			var q struct {
				Query string `json:"query"`
			}
			require.NoError(t, json.Unmarshal(v.Query, &q))
			store = q.Query
		}
	}
	m := regexp.MustCompile(`^label_values\((\w+), *store\)$`).FindStringSubmatch(store)
	require.NotNil(t, m, "the store variable lists the values of the store label: %q", store)
	require.True(t, series[m[1]], "the store variable's query selects %s, which the collector does not export", m[1])

	used := map[string]bool{}
	ids := map[int]bool{}
	var cells []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			require.False(t, ids[p.ID], "panel id %d is used twice", p.ID)
			ids[p.ID] = true
			require.NotEmpty(t, p.Title, "panel %d has a title", p.ID)
			require.True(t, p.GridPos.W > 0 && p.GridPos.H > 0 && p.GridPos.X >= 0 && p.GridPos.X+p.GridPos.W <= 24,
				"panel %q fits the 24 columns: %+v", p.Title, p.GridPos)
			cells = append(cells, p)
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			require.NotNil(t, p.Datasource, "panel %q names its data source", p.Title)
			require.Equal(t, "${datasource}", p.Datasource.UID, "panel %q uses the datasource variable", p.Title)
			require.NotEmpty(t, p.Targets, "panel %q has a query", p.Title)
			for _, tg := range p.Targets {
				sels, err := selectors(tg.Expr)
				require.NoError(t, err, "panel %q, query %s", p.Title, tg.RefID)
				require.NotEmpty(t, sels, "panel %q, query %s selects no metric: %s", p.Title, tg.RefID, tg.Expr)
				for _, s := range sels {
					require.True(t, series[s.name], "panel %q selects %s, which the collector does not export (query %s: %s)",
						p.Title, s.name, tg.RefID, tg.Expr)
					require.Contains(t, s.matchers, `store=~"$store"`, "panel %q: %s is filtered by the store variable", p.Title, s.name)
					used[family(s.name, families)] = true
				}
			}
		}
	}
	walk(d.Panels)
	for name := range families {
		require.True(t, used[name], "no panel shows %s", name)
	}
	for i, a := range cells {
		for _, b := range cells[i+1:] {
			ga, gb := a.GridPos, b.GridPos
			overlap := ga.X < gb.X+gb.W && gb.X < ga.X+ga.W && ga.Y < gb.Y+gb.H && gb.Y < ga.Y+ga.H
			require.False(t, overlap, "panels %q and %q overlap", a.Title, b.Title)
		}
	}
}

// TestOperationsDoc checks docs/operations.md against the collector: every
// metric is documented with its type, every eventstore_ name the text uses
// exists, every PromQL expression (the promql blocks and the expr: of the
// yaml blocks) selects only metrics the collector exports, and every link
// into recovery.md leads to one of its headings.
func TestOperationsDoc(t *testing.T) {
	families, series := exported(t)
	raw, err := os.ReadFile(operationsFile)
	require.NoError(t, err)
	doc := string(raw)

	for name, typ := range families {
		row := regexp.MustCompile("(?m)^\\| `" + name + "` \\| (\\w+) \\|").FindStringSubmatch(doc)
		require.NotNil(t, row, "the metrics table has a row for %s", name)
		require.Equal(t, strings.ToLower(typ.String()), row[1], "the type of %s", name)
	}
	for _, name := range regexp.MustCompile(`\beventstore_\w+`).FindAllString(doc, -1) {
		_, isFamily := families[name]
		require.True(t, isFamily || series[name], "docs/operations.md names %s, which the collector does not export", name)
	}

	recovery, err := os.ReadFile(recoveryFile)
	require.NoError(t, err)
	anchors := map[string]bool{}
	for _, h := range regexp.MustCompile(`(?m)^#+ +(.+)$`).FindAllStringSubmatch(string(recovery), -1) {
		anchors[slug(h[1])] = true
	}
	links := regexp.MustCompile(`\]\(recovery\.md#([^)]+)\)`).FindAllStringSubmatch(doc, -1)
	require.NotEmpty(t, links)
	for _, l := range links {
		require.True(t, anchors[l[1]], "docs/operations.md links to recovery.md#%s, which has no such heading", l[1])
	}

	exprs := promqlOf(t, doc)
	require.GreaterOrEqual(t, len(exprs), 10, "the alerts and the queries of docs/operations.md")
	for _, e := range exprs {
		sels, err := selectors(e)
		require.NoError(t, err, e)
		require.NotEmpty(t, sels, "selects no metric: %s", e)
		for _, s := range sels {
			require.True(t, series[s.name], "docs/operations.md selects %s, which the collector does not export: %s", s.name, e)
		}
	}
}

// promqlOf returns the PromQL expressions of a Markdown text: each line of a
// ```promql block, and the expr: of each alert of a ```yaml block (a value
// on one line, or a block scalar after "expr: |").
func promqlOf(t *testing.T, doc string) []string {
	t.Helper()
	var exprs []string
	sc := bufio.NewScanner(strings.NewReader(doc))
	lang, inBlock := "", false
	exprIndent := -1 // the indent of "expr: |" while its lines are read
	var block []string
	flush := func() {
		if len(block) > 0 {
			exprs = append(exprs, strings.Join(block, " "))
			block = nil
		}
		exprIndent = -1
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			flush()
			inBlock = !inBlock
			lang = strings.TrimPrefix(line, "```")
			continue
		}
		if !inBlock {
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch lang {
		case "promql":
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				exprs = append(exprs, trimmed)
			}
		case "yaml":
			indent := len(line) - len(strings.TrimLeft(line, " "))
			if exprIndent >= 0 {
				if trimmed != "" && indent > exprIndent {
					block = append(block, trimmed)
					continue
				}
				flush()
			}
			if v, ok := strings.CutPrefix(trimmed, "expr:"); ok {
				v = strings.TrimSpace(v)
				if v == "|" || v == ">" || v == "|-" || v == ">-" {
					exprIndent = indent
				} else {
					exprs = append(exprs, strings.Trim(v, `'"`))
				}
			}
		}
	}
	flush()
	require.NoError(t, sc.Err())
	return exprs
}

// family returns the family a series name belongs to.
func family(name string, families map[string]dto.MetricType) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && families[base] == dto.MetricType_HISTOGRAM {
			return base
		}
	}
	return name
}

// selector is a metric selector of a PromQL expression.
type selector struct {
	name     string
	matchers string // what stands between the braces after the name
}

// promqlWords are PromQL's keywords: the binary operators and modifiers,
// the names of numbers, and the aggregation operators (which a by or without
// clause may separate from their parenthesis).
var promqlWords = []string{"and", "or", "unless", "bool", "offset", "inf", "nan",
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}

// promqlGroupings are followed by a parenthesised list of labels.
var promqlGroupings = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}

// selectors returns the metric selectors of a PromQL expression, with
// Grafana's variables in it. It is a lexer, not a parser: it skips strings,
// ranges and subqueries ([...]), label lists of by, without, on, ignoring
// and group_*, numbers and durations; a keyword is skipped, an identifier
// followed by "(" is a function, and any other identifier is a metric name.
func selectors(expr string) ([]selector, error) {
	var out []selector
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
	skipSpace := func(i int) int {
		for i < len(expr) && strings.IndexByte(" \t\n", expr[i]) >= 0 {
			i++
		}
		return i
	}
	// closing returns the index just past the bracket that closes the one at
	// i, skipping strings.
	closing := func(i int) (int, error) {
		open, want := expr[i], map[byte]byte{'(': ')', '[': ']', '{': '}'}[expr[i]]
		depth := 0
		for j := i; j < len(expr); j++ {
			switch c := expr[j]; {
			case c == '"' || c == '\'' || c == '`':
				end := strings.IndexByte(expr[j+1:], c)
				if end < 0 {
					return 0, fmt.Errorf("unterminated string at %d in %s", j, expr)
				}
				j += end + 1
			case c == open:
				depth++
			case c == want:
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("unbalanced %c at %d in %s", open, i, expr)
	}
	depth := 0 // of the parentheses of functions, aggregations and sub-expressions
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end := strings.IndexByte(expr[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated string at %d in %s", i, expr)
			}
			i += end + 2
		case c == '[':
			j, err := closing(i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '{': // matchers without a name: {__name__=...} is not used here
			return nil, fmt.Errorf("a selector without a metric name at %d in %s", i, expr)
		case c == '$': // a Grafana variable outside a string or a range
			return nil, fmt.Errorf("a variable outside a string or a range at %d in %s", i, expr)
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.' || (expr[i] == '+' || expr[i] == '-') && (expr[i-1] == 'e' || expr[i-1] == 'E')) {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word, next := expr[i:j], skipSpace(j)
			switch {
			case slices.Contains(promqlGroupings, strings.ToLower(word)):
				if next >= len(expr) || expr[next] != '(' {
					if strings.HasPrefix(strings.ToLower(word), "group_") { // its labels are optional
						i = j
						continue
					}
					return nil, fmt.Errorf("%s without its labels in %s", word, expr)
				}
				k, err := closing(next)
				if err != nil {
					return nil, err
				}
				i = k
			case slices.Contains(promqlWords, strings.ToLower(word)):
				i = j
				if strings.ToLower(word) == "offset" { // and its duration
					i = skipSpace(i)
					for i < len(expr) && (isIdent(expr[i]) || expr[i] == '-') {
						i++
					}
				}
			case next < len(expr) && expr[next] == '(':
				i = next + 1 // a function: its arguments follow
				depth++
			default:
				s := selector{name: word}
				i = j
				if next < len(expr) && expr[next] == '{' {
					k, err := closing(next)
					if err != nil {
						return nil, err
					}
					s.matchers = expr[next+1 : k-1]
					i = k
				}
				out = append(out, s)
			}
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth--; depth < 0 {
				return nil, fmt.Errorf("unbalanced ) at %d in %s", i, expr)
			}
			i++
		default:
			i++
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced ( in %s", expr)
	}
	return out, nil
}

// TestSelectors checks the lexer on the shapes the dashboard and the
// documentation use, and on what it must refuse.
func TestSelectors(t *testing.T) {
	for expr, want := range map[string][]selector{
		`eventstore_failed == 1`: {{name: "eventstore_failed"}},
		`histogram_quantile(0.99, sum by (le, store) (rate(eventstore_commit_duration_seconds_bucket{store=~"$store"}[$__rate_interval]))) > 0.1`: {
			{name: "eventstore_commit_duration_seconds_bucket", matchers: `store=~"$store"`}},
		`sum(rate(a_total[5m])) by (store) / on (store) group_left sum without (le) (b offset 1h)`: {{name: "a_total"}, {name: "b"}},
		`eventstore_head_offset - eventstore_last_snapshot_offset > 1e4 and changes(eventstore_generation[1h]) > 0`: {
			{name: "eventstore_head_offset"}, {name: "eventstore_last_snapshot_offset"}, {name: "eventstore_generation"}},
		`max_over_time(x{a="}{", b!~"[x]"}[10m:1m]) > Inf`: {{name: "x", matchers: `a="}{", b!~"[x]"`}},
	} {
		got, err := selectors(expr)
		require.NoError(t, err, expr)
		require.Equal(t, want, got, expr)
	}
	for _, bad := range []string{`rate(x[5m]`, `sum(x))`, `{__name__="x"}`, `sum by store (x)`, `x{a="b}`, `x > $threshold`} {
		_, err := selectors(bad)
		require.Error(t, err, bad)
	}
}
