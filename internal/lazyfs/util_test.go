package lazyfs_test

import (
	"io"
	"unsafe"
)

var errEOF = io.EOF

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
