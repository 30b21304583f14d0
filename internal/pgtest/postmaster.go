package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// A postmaster is a running postgres server process, a child of this
// process.
type postmaster struct {
	pid int
	// exited is closed when the process has exited and was reaped; err
	// is then its exit status (nil for a clean exit).
	exited chan struct{}
	err    error
}

// startPostmaster starts postgres on the data directory as acct, with its
// output appended to the log. The process gets SIGKILL when this process
// dies (a parent-death signal), so that a test binary that dies without
// cleaning up leaves no server running.
func startPostmaster(bin binaries, acct account, l layout) (*postmaster, error) {
	logFile, err := os.OpenFile(l.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgtest: open the server log: %w", err)
	}
	cmd := exec.Command(bin.postgres, "-D", l.data)
	cmd.Env = childEnv
	cmd.Dir = l.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: acct.cred,
		// Its own process group, out of reach of a terminal's Ctrl-C:
		// the server stops with the test binary's cleanup, or dies with
		// the binary by the parent-death signal.
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
	p := &postmaster{exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Linux sends the parent-death signal when the thread that
		// started the child exits, not the process; the Go runtime ends a
		// thread whose goroutine exits while locked to it. So this
		// goroutine keeps the starting thread to itself until the child
		// is gone.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.exited)
	}()
	startErr := <-started
	// The child has its own copy of the descriptor.
	closeErr := logFile.Close()
	if startErr != nil {
		return nil, errors.Join(fmt.Errorf("pgtest: start %s as user %s: %w", bin.postgres, acct.name, startErr), closeErr)
	}
	p.pid = cmd.Process.Pid
	if closeErr != nil {
		return nil, errors.Join(fmt.Errorf("pgtest: close the server log: %w", closeErr), p.kill(context.Background()))
	}
	return p, nil
}

// running tells whether the process has not exited yet.
func (p *postmaster) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// shutdown asks for a fast shutdown (SIGINT: clients are disconnected,
// a checkpoint is written) and waits for the exit until ctx ends. When ctx
// ends first, it kills the server, waiting up to killTimeout for that, and
// returns an error that says so.
func (p *postmaster) shutdown(ctx context.Context, killTimeout time.Duration) error {
	if !p.running() {
		return fmt.Errorf("pgtest: postgres (pid %d) had exited before the shutdown: %w", p.pid, p.exitErr())
	}
	if err := syscall.Kill(p.pid, syscall.SIGINT); err != nil {
		return fmt.Errorf("pgtest: ask postgres (pid %d) to shut down: %w", p.pid, err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			return fmt.Errorf("pgtest: postgres (pid %d) shut down: %w", p.pid, p.err)
		}
		return nil
	case <-ctx.Done():
		// A fresh deadline for the kill, which waits too.
		killCtx, cancel := context.WithTimeout(context.Background(), killTimeout)
		defer cancel()
		return errors.Join(
			fmt.Errorf("pgtest: postgres (pid %d) did not shut down in time (%w); killed it", p.pid, ctx.Err()),
			p.kill(killCtx))
	}
}

// kill sends SIGKILL to the postmaster and every process below it, and
// waits until all have exited, until ctx ends. The postmaster is stopped
// (SIGSTOP) first, so that it forks no process while they are listed.
func (p *postmaster) kill(ctx context.Context) error {
	if !p.running() {
		return fmt.Errorf("pgtest: postgres (pid %d) had exited before the kill: %w", p.pid, p.exitErr())
	}
	if err := syscall.Kill(p.pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pgtest: stop postgres (pid %d): %w", p.pid, err)
	}
	var errs []error
	if err := waitStopped(ctx, p.pid); err != nil {
		errs = append(errs, err)
	}
	children, err := descendants(p.pid)
	if err != nil {
		errs = append(errs, err)
	}
	if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil {
		errs = append(errs, fmt.Errorf("pgtest: kill postgres (pid %d): %w", p.pid, err))
	}
	for _, c := range children {
		if err := c.kill(); err != nil {
			errs = append(errs, err)
		}
	}
	select {
	case <-p.exited:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("pgtest: postgres (pid %d) still running after SIGKILL: %w", p.pid, ctx.Err()))
	}
	if err := waitExited(ctx, children); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// exitErr describes how the process exited; it must have.
func (p *postmaster) exitErr() error {
	<-p.exited
	if p.err == nil {
		return errors.New("exit status 0")
	}
	return p.err
}

// kill sends SIGKILL to p unless it has exited already (and so its pid may
// be another process's).
func (p proc) kill() error {
	done, err := p.exited()
	if err != nil || done {
		return err
	}
	err = syscall.Kill(p.pid, syscall.SIGKILL)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("pgtest: kill process %d: %w", p.pid, err)
	}
	return nil
}
