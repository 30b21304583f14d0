package rocksdb

// #include <stdlib.h>
import "C"

import "unsafe"

// cBytes returns a copy of b in the C heap, for a pointer that RocksDB keeps
// after the call that receives it returns (cgo forbids C from keeping Go
// pointers). It returns nil for a nil or empty b. Free the copy with
// freeCBytes.
func cBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	p := C.CBytes(b)
	return unsafe.Slice((*byte)(p), len(b))
}

// freeCBytes frees a copy made by cBytes. It does nothing for nil.
func freeCBytes(b []byte) {
	if len(b) > 0 {
		C.free(unsafe.Pointer(unsafe.SliceData(b)))
	}
}
