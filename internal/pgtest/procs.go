package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"
)

// A proc is a process, told apart from a later one with the same pid by
// its start time.
type proc struct {
	pid   int
	start uint64 // clock ticks after boot
}

// procStat is what this package reads from /proc/<pid>/stat.
type procStat struct {
	state byte // R, S, D, T (stopped), Z (zombie), ...
	ppid  int
	start uint64
}

// errNoProc means that the process is gone and reaped.
var errNoProc = errors.New("no such process")

// readStat reads /proc/<pid>/stat; errNoProc when it is gone.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return procStat{}, errNoProc
	}
	if err != nil {
		return procStat{}, fmt.Errorf("pgtest: %w", err)
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses,
	// so the fields start after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("pgtest: /proc/%d/stat: no ')' in %q", pid, data)
	}
	fields := bytes.Fields(data[i+1:])
	// Field 3 of proc(5) is fields[0]; starttime, field 22, is fields[19].
	if len(fields) < 20 {
		return procStat{}, fmt.Errorf("pgtest: /proc/%d/stat: %d fields after the name, want 20 or more", pid, len(fields))
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil {
		return procStat{}, fmt.Errorf("pgtest: /proc/%d/stat: ppid: %w", pid, err)
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("pgtest: /proc/%d/stat: starttime: %w", pid, err)
	}
	return procStat{state: fields[0][0], ppid: ppid, start: start}, nil
}

// descendants lists the processes below root: its children, theirs, and
// so on.
func descendants(root int) ([]proc, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("pgtest: list processes: %w", err)
	}
	children := make(map[int][]proc)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process: /proc/self, /proc/meminfo, ...
		}
		st, err := readStat(pid)
		if errors.Is(err, errNoProc) {
			continue // exited since the listing
		}
		if err != nil {
			return nil, err
		}
		children[st.ppid] = append(children[st.ppid], proc{pid: pid, start: st.start})
	}
	var out []proc
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out, nil
}

// exited tells whether p has exited: it is gone, a zombie (its new parent
// may never reap it), or its pid is another process's now.
func (p proc) exited() (bool, error) {
	st, err := readStat(p.pid)
	if errors.Is(err, errNoProc) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return st.state == 'Z' || st.start != p.start, nil
}

// waitExited polls until every one of procs has exited, or ctx ends.
func waitExited(ctx context.Context, procs []proc) error {
	return poll(ctx, func() (bool, error) {
		for _, p := range procs {
			done, err := p.exited()
			if err != nil || !done {
				return false, err
			}
		}
		return true, nil
	}, func() error {
		return fmt.Errorf("pgtest: processes %v still running", procs)
	})
}

// waitStopped polls until pid is stopped by a signal, or has exited (then
// it forks no more either), or ctx ends.
func waitStopped(ctx context.Context, pid int) error {
	return poll(ctx, func() (bool, error) {
		st, err := readStat(pid)
		if errors.Is(err, errNoProc) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return st.state == 'T' || st.state == 't' || st.state == 'Z', nil
	}, func() error {
		return fmt.Errorf("pgtest: process %d did not stop", pid)
	})
}

// poll calls done until it reports true or an error, waiting a little
// longer between calls each time (up to 50ms), until ctx ends; then it
// returns ctx's error with timedOut's.
func poll(ctx context.Context, done func() (bool, error), timedOut func() error) error {
	delay := time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", timedOut(), ctx.Err())
		case <-timer.C:
		}
		ok, err := done()
		if err != nil || ok {
			return err
		}
		timer.Reset(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}
