// Package lazyfs is a FUSE file system for power-loss tests, in the spirit
// of LazyFS (which etcd's robustness tests use): it passes I/O through to a
// backing directory but keeps everything that was not fsynced in memory,
// and a simulated power cut drops it.
//
// # The model
//
// The backing directory holds the durable state: what a disk would hold
// after a power cut at this instant. The volatile state, what processes see
// through the mount, is the durable state plus, in memory:
//
//   - per file, the writes since its last fsync, as an overlay of dirty
//     byte ranges, and its size. Reads are served from the overlay over the
//     backing file. fsync(2) and fdatasync(2) (FUSE FSYNC, whatever its
//     datasync flag) write the overlay and the size to the backing file.
//     close(2) makes nothing durable, nor does anything else: there is no
//     background writeback, so unsynced data stays volatile however long
//     it waits.
//   - per directory, the entries created, removed, renamed or linked since
//     its last fsync. A file's name is durable only once its directory was
//     fsynced (FUSE FSYNCDIR) after the name appeared; until then the file
//     lives, unnamed, in a staging directory of the backing directory
//     (.lazyfs, hidden from the mount), and its fsynced data is durable but
//     reachable by no name, as an orphaned inode is. A directory fsync
//     makes the directory's listing durable as the mount shows it: new
//     names are hard-linked from the staging directory, removed names
//     unlinked, a rename within the directory becomes both. A rename across
//     directories is pending in both, and each directory's fsync applies its
//     own side, which is stricter than ext4 or XFS, where a rename is one
//     journal transaction. A directory created with mkdir is durable, with
//     whatever its own fsyncs made durable inside it, once its parent is
//     fsynced; rmdir is likewise pending until the parent's fsync.
//   - attributes other than the size (mode, owner, times) are applied to
//     the backing file at once: they are not modelled as volatile.
//
// With Options.Ordered (ServerOptions.Ordered), a file's fsync also makes
// every pending directory change of the file system durable, as the journal
// commit of ext4 in data=ordered mode does: a model of ext4 rather than of
// POSIX. A name made durable that way keeps only its file's synced data.
//
// Cut (FS.Cut, Mount.Cut, Server.Cut) drops the volatile state: every
// operation fails with EIO from then on, the staging directory is removed
// (the orphans are freed, as fsck would), and the mount is taken down. A
// new file system over the same backing directory then shows the durable
// state. A clean unmount (Unmount) makes everything durable first, as a
// clean shutdown does.
//
// Stats tells, at any moment or at the cut, how many bytes and directory
// entries are unsynced, and counts the names that a directory fsync made
// durable before their file's data (EarlyEntries; each is logged with the
// pid of the process that fsynced the directory), which is how the badger
// finding of package powerloss was traced.
//
// # What the kernel does above the file system
//
// The mount uses the kernel's page cache without writeback caching
// (FUSE's default, no writeback_cache, no direct_io):
//
//   - write(2) is write-through: each write reaches lazyfs as a WRITE
//     request before the call returns, so the overlay holds every write a
//     process made, and a process killed with SIGKILL loses nothing that
//     lazyfs has not seen.
//   - Pages written through a shared writable mapping (badger's memtable
//     WAL and value log) are dirty in the kernel's page cache and reach
//     lazyfs only when the kernel writes them back: on msync(MS_SYNC) or
//     fsync(2), before the FSYNC request (Linux's fuse_fsync writes back
//     and waits first), on close of the last descriptor (FUSE FLUSH writes
//     the inode back), or under memory pressure or the dirty-page timer.
//     Writeback is what a real disk would see too; the difference is that
//     after a SIGKILL the kernel still writes these pages to lazyfs, which
//     keeps them volatile. At a cut they are dropped, with everything else
//     unsynced, and the mount is gone, so pages written back later fail.
//     msync(MS_ASYNC) and sync_file_range(2) start writeback but send no
//     FSYNC: they make nothing durable, as on a real disk.
//   - sync(2) and syncfs(2) are not passed to lazyfs by the kernel: they
//     make nothing durable here, where on a real machine they would.
//   - fallocate(2) without FALLOC_FL_KEEP_SIZE extends the volatile size
//     (zeros); with it, it does nothing; other modes fail with EOPNOTSUPP.
//   - Locks (flock, fcntl) are kept by the kernel, per mount.
//
// # Faults
//
// Rules (FS.SetRules, Server.SetRules) fail chosen operations (write,
// fsync, fsyncdir, rename, create, ...) on chosen paths with an errno,
// after a number of matches, once or for good. A failed fsync behaves as
// Linux does after a failed writeback: the writes it should have made
// durable stay readable but are marked clean, so a later fsync succeeds
// without writing them, and the cut drops them. A program that retries the
// fsync and carries on is then caught by the next cut. A rule can also cut
// the power as a chosen operation arrives (Rule.Cut): a crash point at, say,
// the third fsync of a write-ahead log, rather than at a moment.
//
// # Limits
//
// Not modelled: torn or reordered writes within an fsync interval (a cut
// drops all of a file's unsynced writes, never part of them; pebble's
// CrashClone, in package powerloss, covers partial survival), the
// durability of attributes other than size, symbolic links and special
// files (not shown), RENAME_EXCHANGE (EINVAL), renames of a directory
// (applied to the backing directory at once; EXDEV when the target name is
// still durably taken), data loss below the file system (a disk that lies
// about flushes), and O_DIRECT. Reads through the mount are consistent
// with writes because lazyfs is the only writer; the backing directory
// must not be changed while mounted.
//
// # Use
//
// A Server runs the file system in a child process: the test binary,
// re-executed (call MaybeRunServer first in TestMain). Use it whenever the
// process under test, or the test itself, maps files of the mount: a Go
// process that serves a FUSE mount and faults on one of its pages can
// deadlock, since the faulting goroutine cannot reach a safe point while the
// serving goroutines wait for the stop-the-world. Mount serves from this
// process, for plain file I/O. Available reports whether /dev/fuse and
// fusermount3 are present; tests skip, loudly, when they are not, and make
// test checks it first (internal/testreport) and stops unless
// EVENTSTORE_SKIP_FUSE=1.
//
//	srv, err := lazyfs.StartServer(backing, mountpoint, false)
//	// ... run the workload on mountpoint, kill it ...
//	dropped, err := srv.Cut()
//	srv, err = lazyfs.StartServer(backing, mountpoint, false) // the durable state
package lazyfs
