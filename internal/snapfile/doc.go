// Package snapfile reads and writes state-machine snapshot files.
//
// # Where snapshots live
//
// Snapshots are files in the store's snapshots/ directory, one per snapshot,
// named snap-<offset, 20 digits>.snap so that names sort by offset. They are
// written as a temporary file (.snap.tmp-*), fsynced, renamed into place, and
// the directory is fsynced; a crash leaves either no snapshot or a whole one,
// and recovery deletes stray temporary files. A snapshot that fails its
// checks at recovery is renamed to *.broken and kept for inspection.
//
// # File format (version 1)
//
//	magic        8 bytes "ESSNAP\x00\x01"
//	version      byte, 1
//	offset       uint64 big-endian: the last log offset the state includes
//	created      int64 big-endian: Unix nanoseconds, UTC
//	size         uint64 big-endian: content bytes
//	contentCRC   uint32 big-endian: CRC-32C (Castagnoli) of the content
//	fpLen        uint16 big-endian, at most 1024
//	fingerprint  fpLen bytes: the state's schema mark, may be empty
//	headerCRC    uint32 big-endian: CRC-32C of every header byte before it
//	content      size bytes, as StateMachine.Snapshot wrote them
//
// Nothing follows the content. The writer streams the content to the file
// and fills size and contentCRC in afterwards, so the store never holds a
// whole state in memory.
package snapfile
