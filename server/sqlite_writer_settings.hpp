#pragma once

// Internal to the SQLite storage: the settings of the one writer connection (sqlite_storage.cpp), in one place
// so the unit tests can run SQLite under exactly them.

#include <SQLiteCpp/Database.h>

namespace dpost::server::sqlite {

void apply_writer_settings(SQLite::Database& db);

}  // namespace dpost::server::sqlite
