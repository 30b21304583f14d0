package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// runCmd runs go test -json and reports as it goes and at the end.
func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	jsonOut := fs.String("json", "", "write the JSON events to this file")
	verbose := fs.Bool("v", false, "print every line of output as it comes, as go test -v does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return errors.New("run: name the command after -- (go test -json and its arguments)")
	}

	var tee io.Writer
	if *jsonOut != "" {
		f, err := os.Create(*jsonOut)
		if err != nil {
			return err
		}
		defer f.Close()
		tee = f
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	// An interrupt reaches go test through the process group; this
	// process waits for it to end and reports what it had.
	// (A handler, not an ignored signal, which go test would inherit.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", strings.Join(argv, " "), err)
	}

	r := newReport()
	if *verbose {
		r.verbose = os.Stdout
	} else {
		r.onFailure = func(p *pkg, t *test) {
			fmt.Printf("--- FAIL: %s %s (%.2fs)\n", p.name, t.name, t.elapsed)
		}
	}
	r.onPackage = func(p *pkg, line string) {
		if !*verbose {
			fmt.Println(line)
		}
	}
	readErr := r.read(stdout, tee)
	if readErr != nil {
		// Drain, so that go test is not blocked on a full pipe.
		_, _ = io.Copy(io.Discard, stdout)
	}
	waitErr := cmd.Wait()
	r.finish()

	r.printFailures(os.Stdout)
	if r.failedAny() || waitErr != nil || readErr != nil {
		// Nothing comes after a failed run: say here what was skipped.
		r.printSkips(os.Stdout)
	}
	fmt.Println(r.counts())
	name := strings.Join(argv[:min(2, len(argv))], " ")
	switch {
	case readErr != nil:
		return fmt.Errorf("reading the output of %s: %w", argv[0], readErr)
	case waitErr != nil && !r.failedAny():
		return fmt.Errorf("%s failed (%v) but reported no failed test: see its output above", name, waitErr)
	case waitErr != nil:
		return fmt.Errorf("%s: %d failure(s), listed above", name, len(r.failures))
	case r.failedAny():
		return fmt.Errorf("%s exited 0 but reported %d failure(s), listed above", name, len(r.failures))
	case r.passed == 0:
		return errors.New("no test ran")
	}
	return nil
}

// summaryCmd prints the skipped tests and the counts of a JSON file that
// run wrote.
func summaryCmd(args []string) error {
	if len(args) != 1 {
		return errors.New("summary: name one JSON file")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	r := newReport()
	if err := r.read(f, nil); err != nil {
		return err
	}
	r.finish()
	r.printFailures(os.Stdout)
	r.printSkips(os.Stdout)
	fmt.Println(r.counts())
	if r.failedAny() {
		return fmt.Errorf("%s holds %d failure(s)", args[0], len(r.failures))
	}
	return nil
}
