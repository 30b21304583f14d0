package benchreport

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/durablelog/eventstore/backend"
	"github.com/durablelog/eventstore/backends/postgres"
)

// Machine describes where the benchmarks ran.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	MemoryMiB int64  `json:"memory_mib"`
	// Disk is the device that holds the stores under measurement.
	Disk   Disk   `json:"disk"`
	Kernel string `json:"kernel"`
	OS     string `json:"os,omitempty"`
	Go     string `json:"go"`
	// Revision is the VCS revision the binary was built from, when known.
	Revision string `json:"revision,omitempty"`
	// Engines maps each backend to its EngineVersion.
	Engines []EngineVersion `json:"engines"`
	// LoadStart and LoadEnd are the 1, 5 and 15-minute load averages at
	// the start and the end of the run.
	LoadStart [3]float64 `json:"load_start"`
	LoadEnd   [3]float64 `json:"load_end"`
}

// EngineVersion is what an engine reports about itself.
type EngineVersion struct {
	Backend string `json:"backend"`
	Version string `json:"version"`
}

// Disk describes a filesystem and its block device.
type Disk struct {
	Dir        string  `json:"dir"`
	Source     string  `json:"source"`
	FSType     string  `json:"fstype"`
	Device     string  `json:"device,omitempty"`
	Model      string  `json:"model,omitempty"`
	Rotational string  `json:"rotational,omitempty"` // "yes", "no" or ""
	SizeGiB    float64 `json:"size_gib"`
	AvailGiB   float64 `json:"avail_gib"`
}

// describeMachine gathers the machine's details; dir is on the disk the
// stores use. It opens each engine once, in a directory under dir, for its
// version, asks the PostgreSQL server of the postgres backend its version,
// and fails when one does not answer.
func describeMachine(ctx context.Context, dir string, backends []string, dirs *dirTracker, env *runEnv) (Machine, error) {
	m := Machine{
		CPU: cpuModel(), Cores: runtime.NumCPU(), MemoryMiB: memTotal() >> 20,
		Disk: describeDisk(dir), Kernel: kernel(), OS: osRelease(),
		Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH, LoadStart: loadAverage(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				m.Revision = s.Value
			}
		}
	}
	for _, b := range backends {
		var v string
		var err error
		if b == postgres.Name {
			v, err = postgresVersion(ctx, env.pgDSN)
		} else {
			v, err = engineVersion(b, dirs)
		}
		if err != nil {
			return m, err
		}
		m.Engines = append(m.Engines, EngineVersion{Backend: b, Version: v})
	}
	return m, nil
}

// engineVersion opens the engine once and asks it for its version.
func engineVersion(name string, dirs *dirTracker) (string, error) {
	e, err := backend.Lookup(name)
	if err != nil {
		return "", fmt.Errorf("benchreport: %w", err)
	}
	dir, err := dirs.newDir(name + "-version")()
	if err != nil {
		return "", fmt.Errorf("benchreport: %w", err)
	}
	defer func() {
		_ = os.RemoveAll(dir)
		dirs.forgetRemoved()
	}()
	kv, err := e.Open(dir, backend.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return "", fmt.Errorf("benchreport: open engine %q: %w", name, err)
	}
	v := name + " (version unknown)"
	if n, ok := kv.(backend.Namer); ok {
		v = n.EngineVersion()
	}
	if err := kv.Close(); err != nil {
		return "", fmt.Errorf("benchreport: close engine %q: %w", name, err)
	}
	return v, nil
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return runtime.GOOS
	}
	return fmt.Sprintf("%s %s %s", unix.ByteSliceToString(u.Sysname[:]), unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Machine[:]))
}

func osRelease() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// describeDisk finds the filesystem of dir in /proc/self/mountinfo by its
// device number, then the block device in /sys.
func describeDisk(dir string) Disk {
	d := Disk{Dir: dir}
	if abs, err := filepath.Abs(dir); err == nil {
		d.Dir = abs
	}
	var fs unix.Statfs_t
	if unix.Statfs(dir, &fs) == nil {
		d.SizeGiB = float64(fs.Blocks) * float64(fs.Bsize) / (1 << 30)
		d.AvailGiB = float64(fs.Bavail) * float64(fs.Bsize) / (1 << 30)
	}
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil {
		return d
	}
	majmin := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
			pre, post, ok := strings.Cut(line, " - ")
			f, g := strings.Fields(pre), strings.Fields(post)
			if !ok || len(f) < 5 || len(g) < 2 || f[2] != majmin {
				continue
			}
			d.FSType, d.Source = g[0], g[1]
			break
		}
	}
	sys, err := filepath.EvalSymlinks("/sys/dev/block/" + majmin)
	if err != nil {
		return d
	}
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		sys = filepath.Dir(sys)
	}
	d.Device = filepath.Base(sys)
	switch readTrim(filepath.Join(sys, "queue", "rotational")) {
	case "0":
		d.Rotational = "no"
	case "1":
		d.Rotational = "yes"
	}
	if model := readTrim(filepath.Join(sys, "device", "model")); model != "" {
		d.Model = strings.TrimSpace(readTrim(filepath.Join(sys, "device", "vendor")) + " " + model)
	} else if drv, err := os.Readlink(filepath.Join(sys, "device", "driver")); err == nil {
		d.Model = "driver " + filepath.Base(drv)
	}
	return d
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
