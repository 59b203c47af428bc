#pragma once

// Internal to the SQLite storage: a VFS shim that hands each transaction's write-ahead log frames to the
// kernel in one write() instead of two per page.
//
// SQLite writes a WAL frame as two calls, its 24-byte header and then the page, so a commit of 50 pages costs
// 100 pwrite() system calls before its fsync; on the server's writer that was a third of its time. This shim
// collects the writes that append to the WAL file in one buffer and writes it out in pieces of 124 KiB:
//  - after the page that follows a commit frame's header (bytes 4-7 of a frame header are the database size for
//    a commit frame, 0 for others: the WAL file format), so a commit reaches the kernel inside its own xWrite,
//    with its error reported there;
//  - before anything that reads or measures the WAL file (xRead, xFileSize, xTruncate, xSync, xFileControl,
//    xClose), so SQLite never sees the file without its own writes;
//  - before the database file's shared-memory barrier and locks, so another connection, which learns of new
//    frames from the wal-index, never reads a frame still in the buffer.
// A write that does not append (a frame rewritten in its transaction, the header of a new log) goes out at once,
// after the buffer. A flush that fails makes every later call on the WAL fail until the write transaction ends,
// so that transaction cannot commit without its frames, and a full disk is reported to reads as an I/O error,
// which rolls the transaction back. What is buffered has not been synced, so it was never acknowledged: a crash
// loses exactly what it lost before. Only the WAL file is buffered; every other file passes straight through.
// The end of a write transaction is seen as the release of the WAL write lock in shared memory, so the shim is
// for WAL mode with shared memory: under locking_mode=EXCLUSIVE (no shm) a failed flush would never clear.

#include <sqlite3.h>

#include <cstddef>

namespace dpost::server::sqlite {

// Registers (once, not as the default) and returns the name of the shim over SQLite's default VFS.
const char* wal_buffer_vfs();

// Registers a shim named `name` over `inner` (which must stay registered). For tests: a counting VFS under it.
void register_wal_buffer_vfs(const char* name, sqlite3_vfs* inner, std::size_t buffer_bytes = 1 << 20);

}  // namespace dpost::server::sqlite
