#include "sqlite_wal_buffer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

namespace dpost::server::sqlite {
namespace {

// One per registered shim: the VFS SQLite sees, the one it wraps, and the buffer size for its WAL files.
struct Shim {
  sqlite3_vfs vfs{};
  sqlite3_vfs* inner = nullptr;
  std::size_t buffer_bytes = 0;
  std::string name;
};

struct File {
  sqlite3_file base;  // first: SQLite sees a File as a sqlite3_file
  sqlite3_file* inner = nullptr;
  bool is_wal = false;
  File* wal = nullptr;  // a database file: its WAL file while that is open
  File* db = nullptr;   // a WAL file: the database file it belongs to
  unsigned char* buffer = nullptr;
  std::size_t capacity = 0;
  std::size_t length = 0;
  sqlite3_int64 offset = 0;       // where buffer[0] goes in the file
  sqlite3_int64 written_end = 0;  // the end of everything written so far (buffered or not) since the WAL header
  bool commit_pending = false;    // a commit frame's header is buffered: flush after its page
  // A failed flush: its frames are lost, so every later call on the file fails with it until the write
  // transaction ends (the db file releases the WAL write lock), and that transaction cannot commit.
  int failed = SQLITE_OK;
};

constexpr std::size_t kFileBytes = (sizeof(File) + 15) & ~std::size_t{15};

File* as_file(sqlite3_file* f) {
  return reinterpret_cast<File*>(f);
}
Shim* shim_of(sqlite3_vfs* vfs) {
  return static_cast<Shim*>(vfs->pAppData);
}

// The unix VFS writes at most 128 KiB - 1 per call (it masks the length to 17 bits) and fails a write whose
// masked length is 0: hand it pieces below that.
constexpr std::size_t kMaxInnerWrite = 124 * 1024;

int inner_write(File* f, const void* data, std::size_t n, sqlite3_int64 at) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t done = 0; done < n;) {
    const std::size_t piece = std::min(kMaxInnerWrite, n - done);
    const int rc = f->inner->pMethods->xWrite(f->inner, bytes + done, static_cast<int>(piece),
                                              at + static_cast<sqlite3_int64>(done));
    if (rc != SQLITE_OK) return rc;
    done += piece;
  }
  return SQLITE_OK;
}

int flush(File* f) {
  if (f->failed != SQLITE_OK) return f->failed;
  if (f->length == 0) return SQLITE_OK;
  const int rc = inner_write(f, f->buffer, f->length, f->offset);
  f->length = 0;
  f->commit_pending = false;
  if (rc != SQLITE_OK) f->failed = rc;
  return rc;
}

// For the calls that read or measure the WAL: a lost write must fail them too, and as an I/O error even when it
// was a full disk. SQLite takes SQLITE_FULL from a read as a statement's failure and goes on with the
// transaction, which would then commit without the lost frames; an I/O error rolls the whole transaction back.
int flush_before_use(File* f) {
  const int rc = flush(f);
  return rc == SQLITE_FULL ? SQLITE_IOERR_WRITE : rc;
}

// The WAL of a database file, flushed before anyone can learn of its frames through the wal-index. These
// callers cannot return an error: a failed flush stays in `failed` (see File).
void flush_wal_of(File* db) {
  if (db->wal) flush(db->wal);
}

// SQLite's WAL_WRITE_LOCK is shm lock 0: released exclusively, the write transaction is over (committed or
// rolled back), and frames it failed to write can no longer matter.
void write_transaction_ended(File* db) {
  File* wal = db->wal;
  if (!wal) return;
  if (wal->failed != SQLITE_OK) {
    wal->failed = SQLITE_OK;
    wal->length = 0;
    wal->commit_pending = false;
  } else {
    flush(wal);
  }
}

bool is_commit_frame_header(const void* data, int n, sqlite3_int64 at) {
  // WAL header: 32 bytes at offset 0. Frame header: 24 bytes; bytes 4-7 hold the database size in pages after
  // the commit for a commit frame, 0 for any other.
  if (n != 24 || at < 32) return false;
  const auto* b = static_cast<const unsigned char*>(data);
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

// --- io methods

int x_close(sqlite3_file* pf) {
  File* f = as_file(pf);
  int rc = SQLITE_OK;
  if (f->is_wal) {
    rc = flush(f);
    if (f->db) f->db->wal = nullptr;
    sqlite3_free(f->buffer);
    f->buffer = nullptr;
  } else if (f->wal) {
    f->wal->db = nullptr;
  }
  const int rc2 = f->inner->pMethods->xClose(f->inner);
  return rc != SQLITE_OK ? rc : rc2;
}

int x_read(sqlite3_file* pf, void* out, int n, sqlite3_int64 at) {
  File* f = as_file(pf);
  if (f->is_wal) {
    if (const int rc = flush_before_use(f); rc != SQLITE_OK) return rc;
  }
  return f->inner->pMethods->xRead(f->inner, out, n, at);
}

int x_write(sqlite3_file* pf, const void* data, int n, sqlite3_int64 at) {
  File* f = as_file(pf);
  if (!f->is_wal || n <= 0) return f->inner->pMethods->xWrite(f->inner, data, n, at);
  if (f->failed != SQLITE_OK) return f->failed;
  const auto size = static_cast<std::size_t>(n);
  const sqlite3_int64 write_end = at + n;
  if (at == 0) f->written_end = 0;  // the header of a new log: what came before is the old log's
  if (at < f->written_end || at == 0) {
    // Not an append: a rewritten frame (a page changed twice in a transaction, checksums redone), or the WAL
    // header. Rare: everything before goes out, then this write, directly and in order.
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
    f->written_end = std::max(f->written_end, write_end);
    return inner_write(f, data, size, at);
  }
  const bool completes_commit = f->commit_pending;  // this is the page of a buffered commit frame header
  if (f->length > 0 && (at != f->offset + static_cast<sqlite3_int64>(f->length) || f->length + size > f->capacity)) {
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  }
  f->written_end = write_end;
  if (f->length == 0 && size > f->capacity / 2) return inner_write(f, data, size, at);
  if (f->length == 0) f->offset = at;
  std::memcpy(f->buffer + f->length, data, size);
  f->length += size;
  if (completes_commit) return flush(f);
  if (is_commit_frame_header(data, n, at)) f->commit_pending = true;
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* pf, sqlite3_int64 size) {
  File* f = as_file(pf);
  if (f->is_wal) {
    if (const int rc = flush_before_use(f); rc != SQLITE_OK) return rc;
  }
  if (f->is_wal) f->written_end = std::min(f->written_end, size);
  return f->inner->pMethods->xTruncate(f->inner, size);
}

int x_sync(sqlite3_file* pf, int flags) {
  File* f = as_file(pf);
  if (f->is_wal) {
    if (const int rc = flush_before_use(f); rc != SQLITE_OK) return rc;
  }
  return f->inner->pMethods->xSync(f->inner, flags);
}

int x_file_size(sqlite3_file* pf, sqlite3_int64* size) {
  File* f = as_file(pf);
  if (f->is_wal) {
    if (const int rc = flush_before_use(f); rc != SQLITE_OK) return rc;
  }
  return f->inner->pMethods->xFileSize(f->inner, size);
}

int x_lock(sqlite3_file* pf, int level) {
  return as_file(pf)->inner->pMethods->xLock(as_file(pf)->inner, level);
}
int x_unlock(sqlite3_file* pf, int level) {
  return as_file(pf)->inner->pMethods->xUnlock(as_file(pf)->inner, level);
}
int x_check_reserved_lock(sqlite3_file* pf, int* out) {
  return as_file(pf)->inner->pMethods->xCheckReservedLock(as_file(pf)->inner, out);
}

int x_file_control(sqlite3_file* pf, int op, void* arg) {
  File* f = as_file(pf);
  if (f->is_wal) {
    if (const int rc = flush_before_use(f); rc != SQLITE_OK) return rc;
  }
  if (op == SQLITE_FCNTL_VFSNAME) {
    // Named as the shim over the inner VFS, as SQLite's own shims do.
    const int rc = f->inner->pMethods->xFileControl(f->inner, op, arg);
    if (rc == SQLITE_OK) {
      auto** name = static_cast<char**>(arg);
      char* joined = sqlite3_mprintf("dpost-walbuf/%z", *name);
      *name = joined;
    }
    return rc;
  }
  return f->inner->pMethods->xFileControl(f->inner, op, arg);
}

int x_sector_size(sqlite3_file* pf) {
  return as_file(pf)->inner->pMethods->xSectorSize(as_file(pf)->inner);
}
int x_device_characteristics(sqlite3_file* pf) {
  return as_file(pf)->inner->pMethods->xDeviceCharacteristics(as_file(pf)->inner);
}

int x_shm_map(sqlite3_file* pf, int region, int size, int extend, void volatile** out) {
  return as_file(pf)->inner->pMethods->xShmMap(as_file(pf)->inner, region, size, extend, out);
}
int x_shm_lock(sqlite3_file* pf, int offset, int n, int flags) {
  File* f = as_file(pf);
  if (offset == 0 && flags == (SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE)) {
    write_transaction_ended(f);
  } else {
    flush_wal_of(f);
  }
  return f->inner->pMethods->xShmLock(f->inner, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* pf) {
  File* f = as_file(pf);
  flush_wal_of(f);
  f->inner->pMethods->xShmBarrier(f->inner);
}
int x_shm_unmap(sqlite3_file* pf, int delete_flag) {
  return as_file(pf)->inner->pMethods->xShmUnmap(as_file(pf)->inner, delete_flag);
}
int x_fetch(sqlite3_file* pf, sqlite3_int64 at, int n, void** out) {
  File* f = as_file(pf);
  if (f->is_wal) {
    if (const int rc = flush_before_use(f); rc != SQLITE_OK) return rc;
  }
  return f->inner->pMethods->xFetch(f->inner, at, n, out);
}
int x_unfetch(sqlite3_file* pf, sqlite3_int64 at, void* p) {
  return as_file(pf)->inner->pMethods->xUnfetch(as_file(pf)->inner, at, p);
}

const sqlite3_io_methods kMethods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

// --- vfs methods

int v_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* pf, int flags, int* out_flags) {
  Shim* shim = shim_of(vfs);
  File* f = ::new (static_cast<void*>(pf)) File();  // SQLite allocated szOsFile bytes for it
  f->inner = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(pf) + kFileBytes);
  const int rc = shim->inner->xOpen(shim->inner, name, f->inner, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->inner->pMethods) f->inner->pMethods->xClose(f->inner);
    f->base.pMethods = nullptr;
    return rc;
  }
  if (f->inner->pMethods->iVersion < 3) {
    // The forwarding methods call the inner file's shared-memory and mmap methods.
    f->inner->pMethods->xClose(f->inner);
    f->base.pMethods = nullptr;
    return SQLITE_CANTOPEN;
  }
  if ((flags & SQLITE_OPEN_WAL) != 0 && name != nullptr) {
    f->buffer = static_cast<unsigned char*>(sqlite3_malloc64(shim->buffer_bytes));
    if (!f->buffer) {
      f->inner->pMethods->xClose(f->inner);
      f->base.pMethods = nullptr;
      return SQLITE_NOMEM;
    }
    f->capacity = shim->buffer_bytes;
    f->is_wal = true;
    sqlite3_file* db = sqlite3_database_file_object(name);
    if (db && db->pMethods == &kMethods) {
      f->db = as_file(db);
      f->db->wal = f;
    }
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

sqlite3_vfs* inner_of(sqlite3_vfs* vfs) {
  return shim_of(vfs)->inner;
}

int v_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return inner_of(vfs)->xDelete(inner_of(vfs), name, sync_dir);
}
int v_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return inner_of(vfs)->xAccess(inner_of(vfs), name, flags, out);
}
int v_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return inner_of(vfs)->xFullPathname(inner_of(vfs), name, n, out);
}
void* v_dl_open(sqlite3_vfs* vfs, const char* name) {
  return inner_of(vfs)->xDlOpen(inner_of(vfs), name);
}
void v_dl_error(sqlite3_vfs* vfs, int n, char* out) {
  inner_of(vfs)->xDlError(inner_of(vfs), n, out);
}
void (*v_dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return inner_of(vfs)->xDlSym(inner_of(vfs), handle, symbol);
}
void v_dl_close(sqlite3_vfs* vfs, void* handle) {
  inner_of(vfs)->xDlClose(inner_of(vfs), handle);
}
int v_randomness(sqlite3_vfs* vfs, int n, char* out) {
  return inner_of(vfs)->xRandomness(inner_of(vfs), n, out);
}
int v_sleep(sqlite3_vfs* vfs, int micros) {
  return inner_of(vfs)->xSleep(inner_of(vfs), micros);
}
int v_current_time(sqlite3_vfs* vfs, double* out) {
  return inner_of(vfs)->xCurrentTime(inner_of(vfs), out);
}
int v_get_last_error(sqlite3_vfs* vfs, int n, char* out) {
  return inner_of(vfs)->xGetLastError ? inner_of(vfs)->xGetLastError(inner_of(vfs), n, out) : 0;
}
int v_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  sqlite3_vfs* inner = inner_of(vfs);
  if (inner->iVersion >= 2 && inner->xCurrentTimeInt64) return inner->xCurrentTimeInt64(inner, out);
  double days = 0;
  const int rc = inner->xCurrentTime(inner, &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

std::mutex registry_mutex;

}  // namespace

void register_wal_buffer_vfs(const char* name, sqlite3_vfs* inner, std::size_t buffer_bytes) {
  std::lock_guard lock(registry_mutex);
  if (sqlite3_vfs_find(name)) return;
  if (!inner) throw std::runtime_error("no VFS to buffer the write-ahead log over");
  // Registered VFSes live as long as the process: the shim is never freed.
  auto* shim = new Shim;
  shim->inner = inner;
  shim->buffer_bytes = buffer_bytes;
  shim->name = name;
  sqlite3_vfs& v = shim->vfs;
  v.iVersion = 2;  // xSetSystemCall and friends (version 3) are for SQLite's own tests
  v.szOsFile = static_cast<int>(kFileBytes) + inner->szOsFile;
  v.mxPathname = inner->mxPathname;
  v.zName = shim->name.c_str();
  v.pAppData = shim;
  v.xOpen = v_open;
  v.xDelete = v_delete;
  v.xAccess = v_access;
  v.xFullPathname = v_full_pathname;
  v.xDlOpen = v_dl_open;
  v.xDlError = v_dl_error;
  v.xDlSym = v_dl_sym;
  v.xDlClose = v_dl_close;
  v.xRandomness = v_randomness;
  v.xSleep = v_sleep;
  v.xCurrentTime = v_current_time;
  v.xGetLastError = v_get_last_error;
  v.xCurrentTimeInt64 = v_current_time_int64;
  if (const int rc = sqlite3_vfs_register(&v, 0); rc != SQLITE_OK) {
    throw std::runtime_error(std::string("cannot register the SQLite VFS ") + name + ": " + sqlite3_errstr(rc));
  }
}

const char* wal_buffer_vfs() {
  static constexpr const char* kName = "dpost-walbuf";
  static std::once_flag once;
  std::call_once(once, [] { register_wal_buffer_vfs(kName, sqlite3_vfs_find(nullptr)); });
  return kName;
}

}  // namespace dpost::server::sqlite
