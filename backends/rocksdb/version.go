package rocksdb

// #cgo LDFLAGS: -lrocksdb -lstdc++
// #include <stdlib.h>
// char* eventstore_rocksdb_version(void);
import "C"

import (
	"sync"
	"unsafe"
)

// Version returns the version of the RocksDB library linked into the
// program, such as "7.8.3". It asks the library at run time, so it reports
// the shared library actually loaded, not the headers the program was
// compiled against.
func Version() string { return version() }

var version = sync.OnceValue(func() string {
	cs := C.eventstore_rocksdb_version()
	defer C.free(unsafe.Pointer(cs))
	return C.GoString(cs)
})
