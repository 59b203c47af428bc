#pragma once

// Internal to the SQLite storage: the custody ledger, an RFC 6962 Merkle tree with one leaf per event, kept in
// ledger_leaves / ledger_nodes / ledger_checkpoints (schema/0004_custody.sql).

#include "merkle.hpp"
#include "signing.hpp"
#include "sqlite_conn.hpp"
#include "storage.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dpost::server::sqlite {

inline constexpr const char* kLedgerOrigin = "dossier-post/ledger";

// The server's checkpoint key. Its seed lives in a file beside the database (mode 0600), never in it: a copy
// of the database alone cannot sign a forged history.
struct LedgerKey {
  signing::KeyPair pair;
  std::string key_id;
};
// Reads the key file, or creates it (a fresh random key) when it does not exist. Throws with a clear message
// when the file exists but is not a key.
LedgerKey load_or_create_ledger_key(const std::string& path);

// What a leaf commits to. The public part holds the facts public tracking shows anyway (ids, code, site,
// times, resulting state, seal and issue codes); everything about people (who recorded it, the recipient, the
// free-text reason, the device) enters only through a salted SHA-256, so a proof can be handed to anyone.
std::string leaf_public_text(const EventRecord& e);
merkle::Hash personal_commitment(const EventRecord& e, std::string_view salt);
std::string leaf_input(const EventRecord& e, std::string_view salt);

// Writer thread, inside the transaction that inserts the event: appends its leaf and completed subtrees.
void ledger_append(Conn& c, std::int64_t event_row, const EventRecord& e);
// Events stored before the ledger existed (databases older than schema 0004) get their leaves, in order.
std::size_t ledger_backfill(Conn& c, const std::function<EventRecord(std::int64_t event_row)>& load_event);

std::uint64_t ledger_size(Conn& c);
merkle::SubtreeHashes ledger_nodes(Conn& c);

void ledger_register_key(Conn& c, const LedgerKey& key);
std::optional<LedgerCheckpoint> ledger_latest_checkpoint(Conn& c);
std::optional<LedgerCheckpoint> ledger_checkpoint_of_size(Conn& c, std::uint64_t tree_size);
std::vector<LedgerCheckpoint> ledger_checkpoints(Conn& c, std::size_t limit);
// Signs and stores a checkpoint of the current tree, unless the latest one already has this size (then
// returns that). Nothing for an empty tree.
std::optional<LedgerCheckpoint> ledger_sign_checkpoint(Conn& c, const LedgerKey& key, UnixMillis now);

// The ledger half of `verify`: fed every event row in id order, it recomputes each leaf from its event, the
// whole tree from those leaves, and checks every stored leaf, node and checkpoint (root and signature).
class LedgerVerifier {
 public:
  explicit LedgerVerifier(Conn& c);
  // One event row (in id order) with its leaf (seq and salt) when it has one.
  void event(std::int64_t row, const EventRecord& e, std::optional<std::int64_t> seq, std::optional<std::string> salt);
  // Call once after the last event; returns every problem found.
  std::vector<std::string> finish();

 private:
  void check_checkpoints_up_to(std::uint64_t size);
  Conn& c_;
  merkle::CompactRange range_;
  std::vector<LedgerCheckpoint> checkpoints_;  // ascending size
  std::size_t next_checkpoint_ = 0;
  std::uint64_t last_good_checkpoint_ = 0;
  std::vector<std::string> problems_;
  bool tree_broken_ = false;
};

}  // namespace dpost::server::sqlite
