#pragma once

#include <string>

namespace dpost::bench {

struct ScanItemsOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string token;             // a clerk's bearer token
  std::string site = "BC-HN01";  // the clerk's site
  std::string office = "MC-HN-BD";
  int count = 32;
  std::string out_path;  // one item id per line
};

// Creates `count` dossiers through the API and accepts each item (EMA), so that the load can alternate
// EDD/EDE on it. Writes the item ids to `out_path`.
int make_scan_items(const ScanItemsOptions& options);

struct ScanLoadOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string token;
  std::string site = "BC-HN01";
  std::string items_path;  // from make_scan_items; at least `clients` lines
  int clients = 32;
  int seconds = 10;
  int threads = 1;  // client I/O threads; one is plenty and leaves the cores to the server
};

// `clients` concurrent keep-alive connections, each owning one accepted item and posting EDD, EDE, EDD, ...
// with increasing occurred_at, one request at a time. Counts 201s only; prints scans/s, p50, p99 and the
// other answers by status.
int run_scan_load(const ScanLoadOptions& options);

}  // namespace dpost::bench
