package badger

// Durability and integrity audit of badger v4.9.6
//
// This is the reading of the badger source (module cache,
// github.com/dgraph-io/badger/v4@v4.9.6, and github.com/dgraph-io/ristretto/v2@v2.2.0
// for its z package) that the engine's guarantees rest on. References are
// file:line in those modules. Re-check them when upgrading badger.
//
// # The write path: what txn.Commit has done when it returns
//
//   - Txn.Commit (txn.go:649-677) calls commitAndSend (txn.go:521-607), which
//     suffixes every key with the commit timestamp, marks every entry bitTxn
//     and appends a bitFinTxn commit marker whose value is the timestamp
//     (txn.go:582-591), then hands the entries to the write goroutine as ONE
//     request (DB.sendToWriteCh, db.go:916-941) and waits for it (req.Wait).
//     sendToWriteCh fails the whole request with ErrTxnTooBig before anything
//     is written when it exceeds maxBatchCount or maxBatchSize (db.go:925-927);
//     Txn.SetEntry checks the same bounds per entry (txn.go:335-344). The
//     bounds are 15% of MemTableSize and that divided by skl.MaxNodeSize
//     (db.go:154-155).
//   - DB.writeRequests (db.go:868-914) writes the values of ValueThreshold
//     bytes or more to the value log (valueLog.write, value.go:817-933), then,
//     after ensureRoomForWrite (db.go:1044-1090), every entry, commit marker
//     included, to the active memtable's write-ahead log and skiplist
//     (writeToLSM, db.go:824-866; memTable.Put, memtable.go:170-199).
//   - Both logs are files mapped with MAP_SHARED (ristretto z/mmap_linux.go:20-26,
//     z/file.go:66-80) and the writes are plain copies into the mapping
//     (logFile.writeEntry, memtable.go:324-335; value.go:856). So when Commit
//     returns, the batch is in the kernel's page cache: it survives the crash
//     of the process without any sync. This is what Commit(sync=false)
//     promises.
//   - With Options.SyncWrites=true, writeToLSM msyncs the memtable WAL after
//     every request (db.go:861-863) and valueLog.write msyncs the value-log
//     file in a deferred function that only logs its error (value.go:832-838):
//     a failed value-log sync would not fail the commit. SyncWrites is global
//     (every commit pays a sync) and is therefore off; see below.
//
// # Atomicity after a crash
//
// On open, each memtable WAL is replayed by logFile.iterate (memtable.go:433-531),
// which buffers bitTxn entries and applies them only when it reads the
// matching bitFinTxn marker; a torn tail ends the replay and the file is
// truncated there (memTable.UpdateSkipList, memtable.go:201-213). A batch is
// therefore all present or all absent, for the entries in the WAL. Values in
// the value log are referenced from the WAL by pointer: a power cut that
// persisted a WAL page but not the value-log page it points to leaves a
// complete transaction whose value is missing (see "Value-log reads" below).
// The engine narrows this for synced commits by syncing the value log before
// the WAL, and the default ValueThreshold (1 MiB, badger's maximum) keeps
// ordinary values out of the value log altogether.
//
// # DB.Sync and what it misses
//
//   - DB.Sync (db.go:708-746) msyncs the ACTIVE memtable's WAL (db.mt.SyncWAL,
//     db.go:741) and then the NEWEST value-log file (valueLog.sync,
//     value.go:754-775, which does nothing at all when SyncWrites is on).
//     msync is MS_SYNC (z/mmap_linux.go:61-63) over the whole mapping
//     (z/file.go:147-152). Syncing the active WAL was added for badger issue
//     #1847 (PR #1953).
//   - It misses the WALs of IMMUTABLE memtables: ensureRoomForWrite moves a
//     full memtable to db.imm and creates a new one without syncing the old
//     WAL (db.go:1055-1064); the WAL becomes redundant only when the flush
//     goroutine has written the memtable to a table (table.CreateTable msyncs
//     it, table/table.go:245-262), recorded it in the MANIFEST (fsynced,
//     manifest.go:197-229) and dropped the memtable, whose OnClose deletes the
//     WAL (db.go:1151-1181, memtable.go:124-129). Until then, a batch
//     committed without sync before the rotation is in an unsynced WAL that
//     DB.Sync does not touch. Badger's own ordering makes the rotation happen
//     before a request is written (writeRequests calls ensureRoomForWrite and
//     then writeToLSM), so the entries of one transaction are never split
//     across WALs, and the batch a Commit(sync=true) just wrote is in the
//     active WAL unless another commit rotated it meanwhile.
//   - It misses value-log files rotated since the last sync in one corner:
//     on rotation (value.go:862-876) logFile.doneWriting truncates the file
//     to its end offset, and MmapFile.Truncate msyncs first
//     (memtable.go:408-431, z/file_linux.go:15-26), but logFile.Truncate
//     returns early, without the msync, when the file already has that size
//     (memtable.go:267-276), which happens when a large value made write()
//     grow the file to exactly its end (value.go:840-859).
//   - It does not fsync the directory. Neither does badger when it creates a
//     memtable WAL or a value-log file: z.OpenMmapFileUsing syncs the
//     directory only for a file that stays empty, which a new log file,
//     truncated to its size first, never is (z/file.go:35-53), and
//     createVlogFile syncs nothing (value.go:526-553), despite the comment at
//     value.go:749-753. A power cut could lose the directory entry of a WAL
//     that was itself synced.
//
// So "SyncWrites=false + DB.Sync after the commit" is not equivalent to a
// synced write: it is for the entries of that one transaction only when no
// rotation happened between its write and the sync, and never covers the new
// files' directory entries or earlier unsynced batches in immutable memtables.
//
// # What this engine does (sync.go)
//
// SyncWrites stays off, so that Commit(sync=false) costs no sync. A sync,
// whether Commit(sync=true), KV.Sync, or after a value-log GC round, runs
// under one mutex:
//
//  1. if a value went to the value log since the last sync, fsync the
//     value-log files from the newest one at the last sync onwards, so that
//     they are durable before any WAL entry pointing to them;
//  2. DB.Sync;
//  3. list the directory and fsync every memtable WAL but the newest (the
//     immutable ones) and every value-log file from the newest one at the
//     last sync onwards but the newest. The newest of each kind is the file
//     DB.Sync just synced, or a newer one holding only later writes. A file
//     that vanished was flushed into a synced table (WAL) or emptied by GC;
//  4. fsync the directory when its list of names changed since the last
//     directory fsync.
//
// On Linux, fsync through a separate descriptor writes back pages dirtied
// through a MAP_SHARED mapping exactly as msync(MS_SYNC) does (both end in
// vfs_fsync_range). Commit(sync=true) then returns only after all of this,
// so it makes the batch and every earlier batch durable. Any error is
// returned, and the durability of the batches is then unknown.
//
// # Integrity checks, and what badger does not report
//
//   - ChecksumVerificationMode OnTableRead/OnTableAndBlockRead crashes the
//     process on a damaged table instead of failing Open: when Table.block
//     returns an error, Table.VerifyChecksum formats it with b.offset of the
//     nil block (table/table.go:705-711), in the goroutine newLevelsController
//     starts per table (levels.go:119-140) where nothing recovers. Verified
//     with a flipped byte in an .sst: "invalid memory address or nil pointer
//     dereference" at table.go:711. Badger issue #2201 reports the same kind
//     of background panic. So the engine verifies the tables itself before
//     DB.Open (verify.go), under recover, and runs badger with OnBlockRead.
//   - Even with OnBlockRead, DB.Open reads each table's footer, index and
//     last block (table.OpenTable, table/table.go:297; initBiggestAndSmallest,
//     334-405), and initBiggestAndSmallest recovers a panic only to panic
//     again with debugging output (table.go:336-342): a damaged index or last
//     block crashes the process from the same goroutine. Verified with the
//     entry count of the last block overwritten: "slice bounds out of range"
//     at table.go:594, through levels.go:140. So Open checks those parts of
//     every table before DB.Open, also of the tables it does not verify in
//     full (checkTable).
//   - Table.block parses a block's trailer (checksum length, entry count,
//     entry offsets, table/table.go:576-594) before it verifies the block's
//     checksum (table.go:602-606). A damaged trailer makes it slice out of
//     range instead of returning an error. Verified with the entry count of
//     an uncompressed middle block set to 0xffffff: Txn.Get and iteration
//     panic with "slice bounds out of range [-67104809:]". In the caller's
//     goroutine the engine recovers the panic (Get, Iterator.Next: readPanic
//     in errors.go); in a compaction goroutine nothing can.
//   - With OnBlockRead, a damaged block at run time is NOT reported: the
//     table iterator records the error and turns invalid (table/iterator.go:210-213
//     and the same pattern at 229-231, 243-245, 320-322, 350-352), the merge
//     iterator moves on, badger.Iterator has no error accessor, and Txn.Get
//     returns ErrKeyNotFound. Verified: with a flipped block, iteration
//     stopped after 10,906 of 20,000 keys without an error, and Get reported
//     44 keys missing. A compaction reading such a block drops the rest of
//     that table silently: its loops test it.Valid() only (levels.go:746,
//     869), and the tables it writes carry valid checksums, so no later
//     verification can find the loss. Only the engine's own verification
//     catches such a block, before badger reads it.
//   - Value-log reads: Item.Value/ValueCopy swallow read errors, checksum
//     mismatches included (value.go:976-985), and yield an empty value
//     (iterator.go:139-188, "Don't return error if we cannot read the
//     value"). The engine detects this case (errUnreadableValue in errors.go)
//     and reports it as backend.ErrCorrupt.
//   - Memtable WAL replay treats a record that fails its CRC like a torn
//     tail (safeRead.Entry returns errTruncate, value.go:117-154; iterate
//     stops, memtable.go:459-464) and truncates the WAL there: a damaged
//     record in the middle of a WAL loses it and every later batch in that
//     WAL without an error. The newest value-log file is likewise truncated
//     at its first bad entry on open (value.go:628-642); values beyond are
//     then reported as ErrCorrupt when read.
//   - Badger wraps errors with y.Wrap, which formats the cause with %+v, not
//     %w (y/error.go:55-68), so errors.Is does not see y.ErrChecksumMismatch
//     through most paths; errors.go classifies by message instead.
//
// # Verifying without reading the whole store at each Open
//
// Verifying every block of every table at each Open made Open's cost grow
// with the store. BenchmarkRestartGrowth (snapshots every 1000 events, a
// shared 2-core machine, three rounds) measured a restart of a store of 1M
// events at 10 to 46 times one of 10K (median 13); with the record below,
// at 1.1 to 2.9 times (median 1.4), the checks of its 33 tables taking
// about 2.5 ms. The engine verifies a table in full once, and records
// the file's state then (verified.go); later Opens check the recorded tables'
// state with a stat and their footer, index and last block (verify.go).
// Tables badger writes while the store is open are verified in the
// background and at Close (verifier.go). The alternatives leave more open:
//
//   - Verifying in the background after DB.Open: badger's compactors and the
//     first reads may meet a damaged table before the verification does. A
//     compaction then crashes the process or silently drops the rest of the
//     table into new tables with valid checksums (above), after which no
//     verification can find the loss.
//   - Verifying everything only at the first Open after an unclean shutdown:
//     a crash does not damage the tables, which table.CreateTable msyncs
//     (table/table.go:245-262) before the MANIFEST lists them; damage at rest
//     after a clean Close would go unchecked.
//
// The record rests on two facts. Badger writes a table file once and never
// changes it afterwards (it opens tables read-write but only reads them; a
// test checks that reopening leaves every fingerprint as it was). And the
// kernel sets a file's change time on every write, truncation, rename onto
// it or change of its attributes, and offers no call that sets it back; a
// replaced or copied file is another inode. So any change to a verified
// table made through the file system makes it verified again. What the
// record cannot see is damage below the file system; the package
// documentation describes what happens then.
//
// # Other upstream behaviour the engine works around
//
//   - Keys beginning with "!badger!" are rejected by badger (txn.go:361-362):
//     every key is stored behind the byte 'u'.
//   - DB.Flatten ignores level 0 and the memtables when only level 0 holds
//     tables (db.go:1699-1704): Compact first drops the prefix of a sentinel
//     key, which makes badger flush the memtables and compact all of level 0
//     (db.go:1844-1920, levels.go:263-284), and blocks commits meanwhile,
//     since badger rejects writes with ErrBlockedWrites during DropPrefix
//     (db.go:917-919).
//   - Value-log GC deletes the rewritten file without syncing the moved
//     values (value.go:344-377): Compact syncs after each round.
//   - A badger.Open that fails after starting its goroutines leaks two of them
//     (DB.cleanup, db.go:494-517, stops neither monitorCache nor the
//     allocator pool). The engine's own verification turns the usual causes,
//     damaged or missing tables, into errors before badger starts.
