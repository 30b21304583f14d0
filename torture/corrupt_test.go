package torture_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/durablelog/eventstore/internal/torture"
)

var (
	corruptPerKind    = flag.Int("corrupt.per-kind", 1, "corruption trials per engine, template and damage kind, each on a file drawn at random")
	corruptExhaustive = flag.Bool("corrupt.exhaustive", false, "damage every file of every template with every damage kind, -corrupt.repeat times")
	corruptRepeat     = flag.Int("corrupt.repeat", 1, "trials per file and damage kind with -corrupt.exhaustive")
	corruptAppends    = flag.Int("corrupt.appends", 300, "appends written to each template store")
)

// TestCorruption damages the files of stores of every engine (flip bits,
// zero a 4 KiB block, truncate the tail, delete the file), opens and reads
// each damaged copy in a child process, and classifies the outcome. Silent
// corruption, undetected tail loss and crashes fail the test: the head mark
// (HEADMARK) makes a log that ends below what was acknowledged an error. The
// head mark is itself a target: damage to it must be detected or harmless.
func TestCorruption(t *testing.T) {
	s := seed(t)
	for i, engine := range engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// Four templates: closed cleanly or killed after the last
			// acknowledgement, with small memtables (the data spread over
			// tables, WAL and memtable) or the engine's defaults (most of
			// it in the WAL).
			var templates []*torture.Template
			for j, profile := range []string{torture.ProfileSmall, torture.ProfileDefault} {
				for k, crash := range []bool{false, true} {
					tpl, err := torture.BuildTemplate(filepath.Join(dir, fmt.Sprintf("template-%d%d", j, k)), engine, profile, s+uint64(i), *corruptAppends, crash)
					if err != nil {
						t.Fatal(err)
					}
					templates = append(templates, tpl)
				}
			}
			c := torture.Campaign{
				Templates:  templates,
				Seed:       s + uint64(i),
				PerKind:    *corruptPerKind,
				Exhaustive: *corruptExhaustive,
				Repeat:     *corruptRepeat,
				Parallel:   1,
				WorkDir:    dir,
			}
			results := c.Run(context.Background())
			t.Logf("seed %d, %d trials:\n%s", c.Seed, len(results), torture.Table(engine, results))
			for _, r := range results {
				switch r.Outcome {
				case torture.Silent, torture.Crash, torture.TailLoss:
					t.Errorf("%s: %s: %s (stage %s) %s %s", engine, r.Outcome, r.Damage, r.Stage, r.Err, r.Detail)
				case torture.Error, torture.Prefix:
					if r.Damage.FileKind == "head-mark" {
						t.Errorf("%s: %s after damage to the head mark, which must be detected or clean: %s (stage %s) %s %s", engine, r.Outcome, r.Damage, r.Stage, r.Err, r.Detail)
						continue
					}
					t.Logf("%s: %s: %s (stage %s) %s %s", engine, r.Outcome, r.Damage, r.Stage, r.Err, r.Detail)
				default:
					if testing.Verbose() {
						t.Logf("%s: %s: %s (stage %s, located %v) %.300s", engine, r.Outcome, r.Damage, r.Stage, r.Located(), r.Err)
					}
				}
			}
		})
	}
}
