#pragma once

#include <string>

namespace dpost::bench {

struct TrackDbOptions {
  std::string db_path;      // a database dossier-server has already created with --demo (migrations, sites, users)
  int items = 100'000;      // dossiers, one item each, ~11.5 events per item
  std::string ids_path;     // where to write the generated item ids, one per line (for the wrk script)
  bool reuse_only = false;  // only check: exit 0 when the db already holds exactly these items, 1 otherwise
};

// Fills the database for public look-ups directly with SQL (one transaction, prepared statements,
// synchronous=OFF for the load only), in the real schema: items "EB00000001?VN".. with their dossiers and
// journeys EMA, (EDD, EDE) x3-4, EMG, EDG, EMI, RCV, some stopped midway. The hash chain is filled with
// random bytes: `dossier-server verify` reports this database as tampered, which is fine for a benchmark.
// Skips the work when the items are already there.
int make_track_db(const TrackDbOptions& options);

}  // namespace dpost::bench
