// Command testreport is the test harness of make test: it runs go test -json
// and reports what happened in a form a person reads (failures with their
// output, skipped tests grouped by reason, the counts), computes the coverage
// of the product code from go test's profile and the command's own coverage
// data, and checks that the FUSE tests can run.
//
//	testreport run [-json FILE] [-v] -- go test -json ...
//	testreport summary FILE
//	testreport cover [-threshold PCT] [-pkgs PATTERNS] [-o MERGED] PROFILE...
//	testreport fuse
//
// run starts the command, prints each package's result as it ends and each
// failed test's name, writes the JSON events to FILE, and at the end prints
// every failure with its output and the counts. It fails when the command
// fails, when a test or a package failed, and when a test started but never
// ended (a panic, an os.Exit or a time-out that killed the test binary).
//
// summary prints the skipped tests of a JSON file that run wrote, by package
// and reason, and the counts; it fails when the file holds a failure.
//
// cover merges coverage profiles in go test's text format, prints the
// coverage per package, per group and in total, and fails below the
// threshold.
//
// fuse fails, saying what is missing and how to get it, when lazyfs cannot
// mount (internal/lazyfs.Available), unless EVENTSTORE_SKIP_FUSE=1.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "run":
		err = runCmd(args)
	case "summary":
		err = summaryCmd(args)
	case "cover":
		err = coverCmd(args, os.Stdout)
	case "fuse":
		err = fuseCmd(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testreport: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: testreport run [-json FILE] [-v] -- go test -json ... | summary FILE | cover [-threshold PCT] [-pkgs PATTERNS] [-o FILE] PROFILE... | fuse")
	os.Exit(2)
}
