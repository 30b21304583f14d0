package lazyfs

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestExtents checks the overlay against a plain byte slice over random
// writes and truncations.
func TestExtents(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var x extents
		var ref []byte
		var written []bool
		for range 300 {
			if rng.IntN(8) == 0 {
				n := rng.IntN(4000)
				x.truncate(int64(n))
				if n < len(ref) {
					ref, written = ref[:n], written[:n]
				}
			} else {
				off := rng.IntN(4000)
				p := make([]byte, 1+rng.IntN(300))
				for i := range p {
					p[i] = byte(1 + rng.IntN(255))
				}
				x.write(int64(off), p)
				if len(ref) < off+len(p) {
					ref = append(ref, make([]byte, off+len(p)-len(ref))...)
					written = append(written, make([]bool, off+len(p)-len(written))...)
				}
				copy(ref[off:], p)
				for i := range p {
					written[off+i] = true
				}
			}
			for i := 1; i < len(x); i++ {
				if x[i-1].end() >= x[i].off {
					t.Fatalf("seed %d: extents %d and %d overlap or touch", seed, i-1, i)
				}
			}
			var held int64
			for _, w := range written {
				if w {
					held++
				}
			}
			if x.bytes() != held {
				t.Fatalf("seed %d: %d bytes held, want %d", seed, x.bytes(), held)
			}
			off := rng.IntN(4000)
			got := make([]byte, rng.IntN(1000))
			x.overlay(got, int64(off))
			want := make([]byte, len(got))
			for i := range want {
				if off+i < len(ref) {
					want[i] = ref[off+i]
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("seed %d: overlay at %d differs", seed, off)
			}
		}
	}
}
