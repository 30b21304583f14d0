package lazyfs

import "sort"

// extent is a run of bytes written at off.
type extent struct {
	off  int64
	data []byte
}

func (e extent) end() int64 { return e.off + int64(len(e.data)) }

// extents is a set of written ranges: sorted by offset, neither overlapping
// nor touching.
type extents []extent

// bytes returns the number of bytes held.
func (x extents) bytes() int64 {
	var n int64
	for _, e := range x {
		n += int64(len(e.data))
	}
	return n
}

// write records p at off, over whatever the set held there.
func (x *extents) write(off int64, p []byte) {
	if len(p) == 0 {
		return
	}
	end := off + int64(len(p))
	s := *x
	// [i, j) are the extents that overlap or touch [off, end].
	i := sort.Search(len(s), func(k int) bool { return s[k].end() >= off })
	j := sort.Search(len(s), func(k int) bool { return s[k].off > end })
	switch {
	case i == j:
		d := make([]byte, len(p))
		copy(d, p)
		s = append(s, extent{})
		copy(s[i+1:], s[i:])
		s[i] = extent{off: off, data: d}
	case j == i+1 && s[i].off <= off:
		// One extent, starting at or before off: the common case of a
		// sequential writer. Grow it in place.
		e := &s[i]
		if end > e.end() {
			e.data = append(e.data, make([]byte, end-e.end())...)
		}
		copy(e.data[off-e.off:], p)
	default:
		lo, hi := min(s[i].off, off), max(s[j-1].end(), end)
		d := make([]byte, hi-lo)
		for _, e := range s[i:j] {
			copy(d[e.off-lo:], e.data)
		}
		copy(d[off-lo:], p)
		s[i] = extent{off: lo, data: d}
		s = append(s[:i+1], s[j:]...)
	}
	*x = s
}

// truncate drops every byte at or beyond size.
func (x *extents) truncate(size int64) {
	s := *x
	for len(s) > 0 {
		last := &s[len(s)-1]
		switch {
		case last.off >= size:
			s = s[:len(s)-1]
			continue
		case last.end() > size:
			last.data = last.data[:size-last.off]
		}
		break
	}
	*x = s
}

// overlay copies the set's bytes that fall in [off, off+len(dst)) into dst.
func (x extents) overlay(dst []byte, off int64) {
	end := off + int64(len(dst))
	i := sort.Search(len(x), func(k int) bool { return x[k].end() > off })
	for ; i < len(x) && x[i].off < end; i++ {
		e := x[i]
		lo, hi := max(e.off, off), min(e.end(), end)
		copy(dst[lo-off:hi-off], e.data[lo-e.off:hi-e.off])
	}
}

// merge writes every extent of y over x.
func (x *extents) merge(y extents) {
	for _, e := range y {
		x.write(e.off, e.data)
	}
}
