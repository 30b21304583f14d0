// The linked RocksDB library's version, for EngineVersion. RocksDB's C API
// has no function for it, so this wraps the C++ one.

#include <cstdlib>
#include <cstring>
#include <string>

#include "rocksdb/version.h"

extern "C" char* eventstore_rocksdb_version(void) {
  std::string v = ROCKSDB_NAMESPACE::GetRocksVersionAsString(true);
  return strdup(v.c_str());
}
