// Package dump reads and writes the export format of an event store: a
// portable, checksummed, versioned stream of every record of a log, with
// offsets, stream versions, ids, metadata and commit times kept. It is the
// logical backup format (`eventstore export` and `eventstore import`, and the
// fallback of Store.Backup for engines without checkpoints), and it does not
// depend on the engine the records came from or go to.
//
// # Why binary
//
// Stream names, types, ids and metadata are arbitrary bytes (only NUL is
// excluded from stream names), so a text format such as JSON Lines could not
// carry them exactly: JSON strings are UTF-8. The format is a short framed
// binary stream instead, written and read in one pass, so that it can go
// through a pipe (`eventstore export -o - | ssh host eventstore import -i -`).
// `eventstore read --json` is the way to look at events as text.
//
// # File layout (format version 1)
//
//	magic    8 bytes: "ESDUMP" 0x00 and the format version byte (0x01)
//	frame 'H' the header, once, first
//	frame 'R' one per record, in offset order: 1, 2, 3, ... without a gap
//	frame 'T' the trailer, once, last; nothing may follow it
//
// Every frame is
//
//	kind     1 byte: 'H', 'R' or 'T'
//	length   uvarint: the length of body, at most MaxFrame
//	body     length bytes
//	crc      uint32 big-endian: CRC-32C (Castagnoli) of kind, length and body
//
// The header body is a JSON object (see Header): the format version, the
// engine of the source store, the offset of the last record the dump holds
// (its head), and when it was written. Readers ignore members they do not
// know; a new member never changes the meaning of the others.
//
// A record body is the record codec's body (internal/record AppendBody): the
// bytes that the log stores after each record's checksum, version and flags,
// written and read by the same code. With integers big-endian and strings as
// a uvarint length followed by the bytes:
//
//	offset    uint64: the record's position in the log
//	version   uint64: the record's version within its stream
//	time      int64: commit time, Unix nanoseconds, UTC
//	stream    string
//	type      string
//	id        string (empty: no id)
//	metadata  uvarint count, then count pairs of strings (key, value),
//	          sorted by key, keys unique
//	data      string
//
// Nothing follows the data. The encoding is canonical: one record has exactly
// one body, and a reader rejects any other (unsorted metadata, trailing
// bytes).
//
// The trailer body is
//
//	records   uint64: the number of record frames
//	last      uint64: the offset of the last record, 0 when there is none
//	bytes     uint64: the sum of the records' data lengths
//	hash      32 bytes: the content hash of the records (below)
//
// # Content hash
//
// The content hash of a sequence of records is the SHA-256 of the
// concatenation, for each record in offset order, of the uvarint length of
// its body followed by the body. It depends on the records alone, not on the
// engine or the dump, so `eventstore migrate` compares the hash of the source
// with the hash of the copy, and `eventstore verify --hash` prints it for any
// store: two stores with the same hash hold the same records.
//
// # Checks
//
// A Reader returns a record only after its frame passed its checksum and its
// body decoded, and only when its offset is the next one and its version the
// next of its stream. Next returns io.EOF only after the trailer passed every
// check: its own checksum, the count, the last offset and the content hash
// against the records read, the last offset against the header's head, and
// the end of the input right after it. A dump without a trailer is
// truncated, and is refused. Every other error wraps backend.ErrCorrupt and is
// a *DamageError that names the byte position and, where known, the offset.
//
// Importing therefore works in one pass and stays safe: `eventstore import`
// writes the records into a new store in a staging directory as they are
// read, and moves it into place only once Next has returned io.EOF; a damaged
// or truncated dump leaves the target untouched.
package dump
