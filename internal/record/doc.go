// Package record defines the on-disk format of the event log: how a record is
// framed and checksummed, and how keys are laid out in the ordered engine.
//
// # Key layout
//
// Every key starts with a one-byte prefix that names its table. Integers are
// 8-byte big-endian, so byte order is numeric order.
//
//	0x00 "format"                           -> one byte: the layout version (1)
//	0x01 offset                             -> record (below)
//	0x02 stream 0x00 version                -> offset of that event
//	0x03 stream 0x00 id                     -> version of the event with that id
//
// A stream name never contains 0x00, so the 0x00 separator keeps one stream's
// keys apart from the keys of any stream whose name it prefixes. The head of
// the log is the largest key of table 0x01; there is no separate head key to
// fall out of step with it. The three tables are written in one atomic batch
// per group commit.
//
// # Record framing (version 1)
//
//	crc32c   uint32 little-endian, CRC-32C (Castagnoli) of every byte after it
//	version  byte, 1
//	flags    byte, 0 (reserved; a reader rejects unknown bits)
//	offset   uint64 big-endian: the record's position in the log
//	sversion uint64 big-endian: the record's version within its stream
//	time     int64 big-endian: commit time, Unix nanoseconds, UTC
//	stream   uvarint length, bytes
//	type     uvarint length, bytes
//	id       uvarint length, bytes (length 0: no id)
//	metadata uvarint count, then count pairs of (uvarint length, bytes) for key
//	         and value, sorted by key, keys unique
//	data     uvarint length, bytes
//
// Nothing may follow the data. The record repeats its own offset, stream and
// version, so a record found under the wrong key, or an index entry that points
// at the wrong record, is detected as corruption rather than returned.
package record
