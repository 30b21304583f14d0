package torture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
)

// DamageKind is a way of damaging a file.
type DamageKind string

// The kinds of damage.
const (
	FlipBits  DamageKind = "flip-bits" // flip 1 to 3 random bits
	ZeroBlock DamageKind = "zero-4k"   // zero one 4 KiB-aligned block (the last one may be shorter)
	Truncate  DamageKind = "truncate"  // cut the file at a random length below its size
	Delete    DamageKind = "delete"    // remove the file
)

// DamageKinds lists every kind.
var DamageKinds = []DamageKind{FlipBits, ZeroBlock, Truncate, Delete}

// Damage is one damage to one file of a store directory.
type Damage struct {
	Kind     DamageKind `json:"kind"`
	File     string     `json:"file"`      // relative to the store directory
	FileKind string     `json:"file_kind"` // see FileKindOf
	Size     int64      `json:"size"`      // the file's size before
	// Offset is the block's start for ZeroBlock and the new size for
	// Truncate.
	Offset int64 `json:"offset,omitempty"`
	// Bits are the bit positions (byte*8 + bit) flipped by FlipBits.
	Bits []int64 `json:"bits,omitempty"`
	// Seed is the trial's seed, for the record.
	Seed uint64 `json:"seed"`
	// Template names the template store the trial damaged a copy of.
	Template string `json:"template,omitempty"`
}

func (d Damage) String() string {
	var what string
	switch d.Kind {
	case FlipBits:
		what = fmt.Sprintf("flip bits %v", d.Bits)
	case ZeroBlock:
		what = fmt.Sprintf("zero bytes %d-%d", d.Offset, min(d.Offset+4096, d.Size)-1)
	case Truncate:
		what = fmt.Sprintf("truncate to %d bytes", d.Offset)
	case Delete:
		what = "delete"
	}
	t := ""
	if d.Template != "" {
		t = d.Template + " store, "
	}
	return fmt.Sprintf("%s%s (%s, %d bytes): %s, seed %d", t, d.File, d.FileKind, d.Size, what, d.Seed)
}

// File is a file of a store directory.
type File struct {
	Rel  string // relative to the store directory
	Kind string // see FileKindOf
	Size int64
	// Used is the end of the file's last data extent: below Size for a
	// sparse file whose tail was never written (badger's value log).
	// Damage falls below Used.
	Used int64
}

var fileKinds = []struct {
	re   *regexp.Regexp
	kind string
}{
	{regexp.MustCompile(`^STORE$`), "store-file"},
	{regexp.MustCompile(`^LOCK$`), "store-lock"},
	{regexp.MustCompile(`^HEADMARK$`), "head-mark"},
	{regexp.MustCompile(`^snapshots/snap-\d+\.snap$`), "snapshot"},
	{regexp.MustCompile(`^snapshots/`), "snapshot-other"},
	{regexp.MustCompile(`^engine/.*\.log$`), "wal"},
	{regexp.MustCompile(`^engine/.*\.mem$`), "wal"}, // badger's memtable WAL
	{regexp.MustCompile(`^engine/.*\.vlog$`), "vlog"},
	{regexp.MustCompile(`^engine/.*\.sst$`), "sst"},
	{regexp.MustCompile(`^engine/(.*/)?MANIFEST`), "manifest"},
	{regexp.MustCompile(`^engine/marker\.`), "marker"},
	{regexp.MustCompile(`^engine/CURRENT$`), "current"},
	{regexp.MustCompile(`^engine/OPTIONS`), "options"},
	{regexp.MustCompile(`^engine/LOG(\.old\..*)?$`), "info-log"},
	{regexp.MustCompile(`^engine/LOCK$`), "engine-lock"},
	{regexp.MustCompile(`^engine/IDENTITY$`), "identity"},
	{regexp.MustCompile(`^engine/KEYREGISTRY$`), "keyregistry"},
	{regexp.MustCompile(`^engine/DISCARD$`), "discard"},
	{regexp.MustCompile(`^engine/kv\.sqlite$`), "sqlite-db"},
	{regexp.MustCompile(`^engine/kv\.sqlite-wal$`), "sqlite-wal"},
	{regexp.MustCompile(`^engine/kv\.sqlite-shm$`), "sqlite-shm"},
}

// FileKindOf classifies a file of a store directory by its path relative to
// the directory: "wal", "sst", "manifest", "snapshot", "store-file", ...,
// or "other".
func FileKindOf(rel string) string {
	rel = filepath.ToSlash(rel)
	for _, k := range fileKinds {
		if k.re.MatchString(rel) {
			return k.kind
		}
	}
	return "other"
}

// ListFiles lists the regular files of the store directory dir, sorted.
func ListFiles(dir string) ([]File, error) {
	var out []File
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, File{Rel: rel, Kind: FileKindOf(rel), Size: fi.Size(), Used: usedSize(path, fi.Size())})
		return nil
	})
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Rel, b.Rel) })
	return out, err
}

// PlanDamage draws a damage of kind to f from rng. It returns false when the
// kind does not apply (an empty file can only be deleted).
func PlanDamage(rng *rand.Rand, f File, kind DamageKind) (Damage, bool) {
	d := Damage{Kind: kind, File: f.Rel, FileKind: f.Kind, Size: f.Size}
	used := f.Used
	if used <= 0 || used > f.Size {
		used = f.Size
	}
	if kind != Delete && used == 0 {
		return d, false
	}
	switch kind {
	case FlipBits:
		for range 1 + rng.IntN(3) {
			d.Bits = append(d.Bits, rng.Int64N(used*8))
		}
		slices.Sort(d.Bits)
		d.Bits = slices.Compact(d.Bits)
	case ZeroBlock:
		d.Offset = rng.Int64N((used+4095)/4096) * 4096
	case Truncate:
		d.Offset = rng.Int64N(used)
	}
	return d, true
}

// Apply damages the file in the store directory dir. It reports whether the
// file's content changed: zeroing a block that is already zero changes
// nothing.
func (d Damage) Apply(dir string) (changed bool, err error) {
	path := filepath.Join(dir, d.File)
	switch d.Kind {
	case Delete:
		return true, os.Remove(path)
	case Truncate:
		return true, os.Truncate(path, d.Offset)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	switch d.Kind {
	case FlipBits:
		for _, bit := range d.Bits {
			var b [1]byte
			if _, err := f.ReadAt(b[:], bit/8); err != nil {
				return false, err
			}
			b[0] ^= 1 << (bit % 8)
			if _, err := f.WriteAt(b[:], bit/8); err != nil {
				return false, err
			}
		}
		return true, f.Close()
	case ZeroBlock:
		n := min(4096, d.Size-d.Offset)
		old := make([]byte, n)
		if _, err := f.ReadAt(old, d.Offset); err != nil && err != io.EOF {
			return false, err
		}
		zero := make([]byte, n)
		if bytes.Equal(old, zero) {
			return false, nil
		}
		if _, err := f.WriteAt(zero, d.Offset); err != nil {
			return false, err
		}
		return true, f.Close()
	}
	return false, fmt.Errorf("torture: unknown damage %q", d.Kind)
}

// CopyDir copies the regular files and directories of src into dst, which
// must not exist.
func CopyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copySparse(path, target)
		}
		return nil
	})
}

// Linux lseek whence values that find data and holes.
const (
	seekData = 3
	seekHole = 4
)

// dataExtents returns the [start, end) ranges of f that hold data, using
// SEEK_DATA and SEEK_HOLE (the whole file when they are not supported).
// Badger's value log, for one, is a 512 MiB sparse file that holds a few
// bytes.
func dataExtents(f *os.File, size int64) [][2]int64 {
	var out [][2]int64
	for off := int64(0); off < size; {
		start, err := syscall.Seek(int(f.Fd()), off, seekData)
		if err != nil {
			if len(out) == 0 && !errors.Is(err, syscall.ENXIO) {
				return [][2]int64{{0, size}} // no SEEK_DATA: all data
			}
			break // ENXIO: no data after off
		}
		end, err := syscall.Seek(int(f.Fd()), start, seekHole)
		if err != nil {
			end = size
		}
		out = append(out, [2]int64{start, min(end, size)})
		off = end
	}
	return out
}

// copySparse copies src to dst, keeping holes as holes.
func copySparse(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	for _, e := range dataExtents(in, fi.Size()) {
		if _, err := io.Copy(io.NewOffsetWriter(out, e[0]), io.NewSectionReader(in, e[0], e[1]-e[0])); err != nil {
			out.Close()
			return err
		}
	}
	if err := out.Truncate(fi.Size()); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// usedSize returns the end of the last data extent of the file at path: the
// part of a sparse file worth damaging.
func usedSize(path string, size int64) int64 {
	f, err := os.Open(path)
	if err != nil {
		return size
	}
	defer f.Close()
	ext := dataExtents(f, size)
	if len(ext) == 0 {
		return 0
	}
	return ext[len(ext)-1][1]
}
