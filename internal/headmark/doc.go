// Package headmark keeps a store's head mark: a small file outside the
// storage engine that remembers how far the log reached, so that Open can
// tell a log that ends below what was once acknowledged from one that ends
// where it should. The engine's write-ahead-log recovery cuts a log at the
// first damaged record as it does at a torn write, silently; the mark is the
// witness that makes such a cut an error instead.
//
// # The file
//
// The file (dir/HEADMARK) holds two slots, at byte 0 and at byte 4096, so
// that they never share a disk sector or a page. A write replaces the older
// slot, the one whose sequence number is lower, so a torn write can damage
// only the slot being written, never the newer of the two that were there.
// Each slot is 48 bytes, little-endian:
//
//	magic      4  "ESHM"
//	version    1  1
//	flags      1  bit 0: written by a clean Close
//	reserved   2  zero
//	seq        8  incremented by every write
//	head       8  the highest offset acknowledged to a caller
//	durable    8  the highest offset known to be on stable storage
//	generation 8  the store's generation when the slot was written
//	crc        4  CRC-32C (Castagnoli) of the 40 bytes before it
//	reserved   4  zero
//
// The valid slot with the higher sequence number is the mark; a slot whose
// magic, version or CRC is wrong is invalid. A file with no valid slot is
// damaged.
//
// # When it is written
//
// The store writes the mark with a plain pwrite(2) and no fsync after each
// synced commit (Sync mode) or after each periodic engine sync (NoSync
// mode). Because it is written only after the data it describes is
// durable, and is not synced itself, a power cut can only make the mark lag
// the log, never lead it: it never raises a false alarm. Open and Close
// write it with an fsync (Close sets the clean flag).
package headmark
