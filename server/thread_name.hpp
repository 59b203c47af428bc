#pragma once

#include <pthread.h>

#include <string>

namespace dpost::server {

// Names the calling thread as `top -H`, `ps -L`, perf and gdb show it ("dpost-writer", "dpost-io-1", ...).
// Linux keeps at most 15 characters; a longer name is cut, never refused.
inline void set_thread_name(std::string name) {
  if (name.size() > 15) name.resize(15);
  pthread_setname_np(pthread_self(), name.c_str());
}

}  // namespace dpost::server
