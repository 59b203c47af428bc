#pragma once

#include <string>

namespace dpost::bench {

struct BeastBaselineOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  int io_threads = 2;  // dossier-server's default is one per core
};

// A bare Boost.Beast HTTP/1.1 server with the same threading as dossier-server (a strand per connection,
// keep-alive, a fresh parser per request with limits, a timeout before every read and write) that answers
// every GET with a fixed small JSON body: the ceiling for public look-ups. Prints
// "dossier-bench beast-baseline listening on http://HOST:PORT" when ready; SIGINT/SIGTERM stop it.
int run_beast_baseline(const BeastBaselineOptions& options);

}  // namespace dpost::bench
