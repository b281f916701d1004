#ifndef CRM_LIBS_STORAGE_ROCKS_H_
#define CRM_LIBS_STORAGE_ROCKS_H_

// How every store of the project runs RocksDB through a full disk.
//
// RocksDB's own warnings and errors go to the process's structured log on
// stderr instead of a LOG file beside the data: RocksDB 7.8 aborts the
// process when it writes to its LOG file again after a failed write to it,
// which a full disk brings about. Info-level chatter is dropped.
//
// After a failed write RocksDB refuses every write until it resumes: on
// its own once the disk has as much free space as the store's largest
// memtable (which is why the stores keep theirs small: 8 MiB for the event
// store, 16 MiB for read models, 4 MiB for keys), or when asked; Write()
// asks after each failure. So writes succeed again once the space is back.

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "libs/runtime/log.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"

namespace crm::storage {

class ProcessLogger : public rocksdb::Logger {
 public:
  explicit ProcessLogger(std::string db)
      : rocksdb::Logger(rocksdb::WARN_LEVEL), db_(std::move(db)) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char text[2048];
    std::vsnprintf(text, sizeof(text), format, ap);
    if (level >= rocksdb::ERROR_LEVEL) {
      LogError("rocksdb", {{"db", db_}, {"detail", text}});
    } else {
      LogWarn("rocksdb", {{"db", db_}, {"detail", text}});
    }
  }

 private:
  std::string db_;
};

// Before opening a store at `path` with `options`: its diagnostics go to the
// process log, and its directory exists (else RocksDB logs an error about
// the missing directory on every first start).
inline void PrepareToOpen(rocksdb::DBOptions& options, const std::string& path) {
  options.info_log = std::make_shared<ProcessLogger>(path);
  std::error_code ignored;  // Open reports what matters
  std::filesystem::create_directories(path, ignored);
}

// `db->Write`; after a failure, a request to resume for the next one.
inline rocksdb::Status Write(rocksdb::DB* db, const rocksdb::WriteOptions& options,
                             rocksdb::WriteBatch* batch) {
  rocksdb::Status s = db->Write(options, batch);
  if (!s.ok()) (void)db->Resume();
  return s;
}

}  // namespace crm::storage

#endif  // CRM_LIBS_STORAGE_ROCKS_H_
