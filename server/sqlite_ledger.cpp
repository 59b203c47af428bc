#include "sqlite_ledger.hpp"

#include <sodium.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace dpost::server::sqlite {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kMaxProblems = 40;

std::string hex_of(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

void field(std::string& out, std::string_view value) {
  out.append(value);
  out.push_back('\n');
}
void optional_field(std::string& out, const std::optional<std::string>& value) {
  field(out, value ? "=" + *value : std::string("-"));
}
template <class T>
void optional_number(std::string& out, const std::optional<T>& value) {
  field(out, value ? std::to_string(*value) : std::string("-"));
}

merkle::Hash read_node(Conn& c, int level, std::uint64_t index) {
  Query q(c, "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?");
  q->bind(1, level);
  q->bind(2, static_cast<std::int64_t>(index));
  if (!q->executeStep()) {
    throw std::runtime_error("ledger node (" + std::to_string(level) + ", " + std::to_string(index) + ") is missing");
  }
  return blob_array<32>(q->getColumn(0));
}

void insert_node(Conn& c, int level, std::uint64_t index, const merkle::Hash& hash) {
  Query q(c, "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)");
  q->bind(1, level);
  q->bind(2, static_cast<std::int64_t>(index));
  q->bind(3, hash.data(), static_cast<int>(hash.size()));
  q->exec();
}

LedgerCheckpoint read_checkpoint(SQLite::Statement& q) {
  LedgerCheckpoint cp;
  cp.tree_size = static_cast<std::uint64_t>(q.getColumn(0).getInt64());
  cp.root_hash = blob_array<32>(q.getColumn(1));
  cp.created_at = q.getColumn(2).getInt64();
  cp.key_id = q.getColumn(3).getString();
  cp.signature = blob(q.getColumn(4));
  cp.text = signing::checkpoint_text({kLedgerOrigin, cp.tree_size, cp.root_hash, cp.created_at});
  return cp;
}

}  // namespace

LedgerKey load_or_create_ledger_key(const std::string& path) {
  signing::Seed seed{};
  std::ifstream in(path);
  if (in) {
    std::string hex;
    in >> hex;
    if (hex.size() != 64 ||
        sodium_hex2bin(seed.data(), seed.size(), hex.data(), hex.size(), nullptr, nullptr, nullptr) != 0) {
      throw std::runtime_error(path + " is not a ledger key (64 hex digits expected)");
    }
  } else {
    // A new key: created with O_EXCL and mode 0600, so it is never readable by others, not even briefly.
    const auto fresh = signing::generate_key_pair();
    seed = signing::seed_of(fresh);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create the ledger key " + path + ": " + std::strerror(errno));
    const std::string text = hex_of(seed) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write the ledger key " + path);
  }
  LedgerKey key;
  key.pair = signing::key_pair_from_seed(seed);
  key.key_id = signing::key_id(key.pair.public_key);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

std::string leaf_public_text(const EventRecord& e) {
  std::string out;
  field(out, "dpost-event-v1");
  field(out, e.event_id);
  field(out, e.item_id);
  field(out, to_string(e.code));
  field(out, e.site);
  field(out, std::to_string(e.occurred_at));
  field(out, std::to_string(e.received_at));
  field(out, e.late ? "late" : "in-order");
  field(out, to_string(e.state_after));
  field(out, e.seal_intact ? (*e.seal_intact ? "seal-intact" : "seal-broken") : "-");
  field(out, e.issue ? std::string(to_string(*e.issue)) : std::string("-"));
  optional_number(out, e.device_seq);
  return out;
}

merkle::Hash personal_commitment(const EventRecord& e, std::string_view salt) {
  std::string text = "dpost-personal-v1\n";
  text.append(salt);
  text.push_back('\n');
  field(text, e.recorded_by);
  optional_field(text, e.device);
  optional_number(text, e.device_id);
  optional_field(text, e.reason);
  if (e.recipient) {
    field(text, "=" + e.recipient->name);
    field(text, e.recipient->id_checked ? "id-checked" : "id-not-checked");
    optional_field(text, e.recipient->relation);
  } else {
    field(text, "-");
  }
  optional_number(text, e.clock_offset_ms);
  // Issue 7's facts only when present, so commitments of older events stay as they were.
  if (auto facts = delivery_facts_text(e.reason_code, e.action, e.recipient); !facts.empty()) field(text, facts);
  field(text, e.device_signature ? hex_of(std::span(reinterpret_cast<const unsigned char*>(e.device_signature->data()),
                                                    e.device_signature->size()))
                                 : std::string("-"));
  return merkle::sha256(text);
}

std::string leaf_input(const EventRecord& e, std::string_view salt) {
  return leaf_public_text(e) + "personal=" + merkle::to_hex(personal_commitment(e, salt)) + "\n";
}

std::uint64_t ledger_size(Conn& c) {
  Query q(c, "SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_leaves");
  q->executeStep();
  return static_cast<std::uint64_t>(q->getColumn(0).getInt64());
}

merkle::SubtreeHashes ledger_nodes(Conn& c) {
  return [&c](int level, std::uint64_t index) { return read_node(c, level, index); };
}

// Salts from libsodium's generator, drawn 4 KiB at a time: each draw is a getrandom() system call, which was
// 1.5% of the writer's time when made once per event. Used bytes are wiped.
namespace {
std::string next_salt() {
  thread_local std::array<unsigned char, 4096> pool{};
  thread_local std::size_t used = pool.size();
  if (used + kSaltBytes > pool.size()) {
    randombytes_buf(pool.data(), pool.size());
    used = 0;
  }
  std::string salt(reinterpret_cast<const char*>(pool.data() + used), kSaltBytes);
  sodium_memzero(pool.data() + used, kSaltBytes);
  used += kSaltBytes;
  return salt;
}
}  // namespace

void ledger_append(Conn& c, std::int64_t event_row, const EventRecord& e) {
  const auto seq = ledger_size(c);
  const std::string salt = next_salt();
  {
    Query q(c, "INSERT INTO ledger_leaves (seq, event_row, salt) VALUES (?, ?, ?)");
    q->bind(1, static_cast<std::int64_t>(seq));
    q->bind(2, event_row);
    q->bind(3, salt.data(), static_cast<int>(salt.size()));
    q->exec();
  }
  insert_node(c, 0, seq, merkle::leaf_hash(leaf_input(e, salt)));
  // Read the children back rather than keeping the tree's edge in memory: a job rolled back to its savepoint
  // takes its nodes with it, and nothing in memory can disagree with the file.
  for (auto [level, index] : merkle::completed_by_append(seq)) {
    insert_node(c, level, index,
                merkle::node_hash(read_node(c, level - 1, 2 * index), read_node(c, level - 1, 2 * index + 1)));
  }
}

std::size_t ledger_backfill(Conn& c, const std::function<EventRecord(std::int64_t)>& load_event) {
  std::vector<std::int64_t> rows;
  {
    Query q(c,
            "SELECT e.id FROM events e WHERE NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.event_row = e.id) "
            "ORDER BY e.id");
    while (q->executeStep()) rows.push_back(q->getColumn(0).getInt64());
  }
  for (auto row : rows) ledger_append(c, row, load_event(row));
  return rows.size();
}

void ledger_register_key(Conn& c, const LedgerKey& key) {
  Query q(c, "INSERT OR IGNORE INTO ledger_keys (key_id, public_key, created_at) VALUES (?, ?, ?)");
  q->bind(1, key.key_id);
  q->bind(2, key.pair.public_key.data(), static_cast<int>(key.pair.public_key.size()));
  q->bind(3, static_cast<std::int64_t>(now_millis()));
  q->exec();
}

std::optional<LedgerCheckpoint> ledger_latest_checkpoint(Conn& c) {
  Query q(c,
          "SELECT tree_size, root_hash, created_at, key_id, signature FROM ledger_checkpoints "
          "ORDER BY tree_size DESC LIMIT 1");
  if (!q->executeStep()) return std::nullopt;
  return read_checkpoint(*q);
}

std::optional<LedgerCheckpoint> ledger_checkpoint_of_size(Conn& c, std::uint64_t tree_size) {
  Query q(c, "SELECT tree_size, root_hash, created_at, key_id, signature FROM ledger_checkpoints WHERE tree_size = ?");
  q->bind(1, static_cast<std::int64_t>(tree_size));
  if (!q->executeStep()) return std::nullopt;
  return read_checkpoint(*q);
}

std::vector<LedgerCheckpoint> ledger_checkpoints(Conn& c, std::size_t limit) {
  Query q(c,
          "SELECT tree_size, root_hash, created_at, key_id, signature FROM ledger_checkpoints "
          "ORDER BY tree_size DESC LIMIT ?");
  q->bind(1, static_cast<std::int64_t>(limit));
  std::vector<LedgerCheckpoint> out;
  while (q->executeStep()) out.push_back(read_checkpoint(*q));
  return out;
}

std::optional<LedgerCheckpoint> ledger_sign_checkpoint(Conn& c, const LedgerKey& key, UnixMillis now) {
  const auto size = ledger_size(c);
  if (size == 0) return std::nullopt;
  auto latest = ledger_latest_checkpoint(c);
  if (latest && latest->tree_size == size) return latest;
  LedgerCheckpoint cp;
  cp.tree_size = size;
  cp.root_hash = merkle::root(size, ledger_nodes(c));
  cp.created_at = latest ? std::max(now, latest->created_at) : now;  // times never go backwards
  cp.key_id = key.key_id;
  cp.text = signing::checkpoint_text({kLedgerOrigin, cp.tree_size, cp.root_hash, cp.created_at});
  const auto signature = signing::sign(cp.text, key.pair.secret_key);
  cp.signature.assign(reinterpret_cast<const char*>(signature.data()), signature.size());
  Query q(c,
          "INSERT INTO ledger_checkpoints (tree_size, root_hash, created_at, key_id, signature) "
          "VALUES (?, ?, ?, ?, ?)");
  q->bind(1, static_cast<std::int64_t>(cp.tree_size));
  q->bind(2, cp.root_hash.data(), static_cast<int>(cp.root_hash.size()));
  q->bind(3, static_cast<std::int64_t>(cp.created_at));
  q->bind(4, cp.key_id);
  q->bind(5, signature.data(), static_cast<int>(signature.size()));
  q->exec();
  return cp;
}

// ------------------------------------------------------------------ verification

LedgerVerifier::LedgerVerifier(Conn& c) : c_(c) {
  Query q(c_, "SELECT tree_size, root_hash, created_at, key_id, signature FROM ledger_checkpoints ORDER BY tree_size");
  while (q->executeStep()) {
    try {
      checkpoints_.push_back(read_checkpoint(*q));
    } catch (const std::exception& e) {
      problems_.push_back("checkpoint of size " + q->getColumn(0).getString() + ": unreadable (" + e.what() + ")");
    }
  }
}

void LedgerVerifier::event(std::int64_t row, const EventRecord& e, std::optional<std::int64_t> seq,
                           std::optional<std::string> salt) {
  if (problems_.size() >= kMaxProblems) return;
  const std::string what = "event row " + std::to_string(row) + " (event " + e.event_id + ", item " + e.item_id + ")";
  if (!seq || !salt) {
    problems_.push_back(what + " is not in the ledger: it was inserted into the file directly");
    return;
  }
  if (static_cast<std::uint64_t>(*seq) != range_.size()) {
    if (!tree_broken_) {
      problems_.push_back("ledger leaf " + std::to_string(range_.size()) + " is missing or out of order (" + what +
                          " has leaf " + std::to_string(*seq) + "): ledger rows were deleted or reordered");
    }
    tree_broken_ = true;
    return;
  }
  const auto leaf = merkle::leaf_hash(leaf_input(e, *salt));
  merkle::Hash stored{};
  bool have_stored = true;
  try {
    stored = read_node(c_, 0, static_cast<std::uint64_t>(*seq));
  } catch (const std::exception&) {
    have_stored = false;
  }
  if (!have_stored) {
    problems_.push_back("ledger leaf " + std::to_string(*seq) + " of " + what + " is missing from ledger_nodes");
  } else if (stored != leaf) {
    problems_.push_back(what + " no longer matches its ledger leaf " + std::to_string(*seq) +
                        ": the event was changed after it was recorded");
  }
  range_.append(leaf, [this](int level, std::uint64_t index, const merkle::Hash& hash) {
    if (problems_.size() >= kMaxProblems) return;
    try {
      if (read_node(c_, level, index) != hash) {
        problems_.push_back("ledger node (level " + std::to_string(level) + ", index " + std::to_string(index) +
                            ") does not match the events below it");
      }
    } catch (const std::exception&) {
      problems_.push_back("ledger node (level " + std::to_string(level) + ", index " + std::to_string(index) +
                          ") is missing");
    }
  });
  check_checkpoints_up_to(range_.size());
}

void LedgerVerifier::check_checkpoints_up_to(std::uint64_t size) {
  while (next_checkpoint_ < checkpoints_.size() && checkpoints_[next_checkpoint_].tree_size <= size) {
    const auto& cp = checkpoints_[next_checkpoint_++];
    if (cp.tree_size != size || tree_broken_) continue;
    std::optional<signing::PublicKey> key;
    {
      Query q(c_, "SELECT public_key FROM ledger_keys WHERE key_id = ?");
      q->bind(1, cp.key_id);
      if (q->executeStep() && q->getColumn(0).getBytes() == 32) key = blob_array<32>(q->getColumn(0));
    }
    const std::string name =
        "checkpoint of tree size " + std::to_string(cp.tree_size) + " (" + format_rfc3339(cp.created_at) + ")";
    if (!key) {
      problems_.push_back(name + ": signed by unknown key " + cp.key_id);
    } else if (!signing::verify(
                   cp.text, std::span(reinterpret_cast<const unsigned char*>(cp.signature.data()), cp.signature.size()),
                   *key)) {
      problems_.push_back(name + ": the signature does not match: the checkpoint was edited");
    }
    if (range_.root() != cp.root_hash) {
      problems_.push_back(name + ": the events no longer give its signed root: history in leaves " +
                          std::to_string(last_good_checkpoint_) + ".." + std::to_string(cp.tree_size - 1) +
                          " was rewritten");
    } else {
      last_good_checkpoint_ = cp.tree_size;
    }
  }
}

std::vector<std::string> LedgerVerifier::finish() {
  {
    Query q(c_,
            "SELECT l.seq, l.event_row FROM ledger_leaves l WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = "
            "l.event_row) ORDER BY l.seq LIMIT 20");
    while (q->executeStep()) {
      problems_.push_back("ledger leaf " + q->getColumn(0).getString() + ": its event row " +
                          q->getColumn(1).getString() + " was deleted");
    }
  }
  const auto stored = ledger_size(c_);
  if (!tree_broken_ && stored != range_.size()) {
    problems_.push_back("the ledger has " + std::to_string(stored) + " leaves but only " +
                        std::to_string(range_.size()) + " of them belong to stored events");
  }
  for (; next_checkpoint_ < checkpoints_.size(); ++next_checkpoint_) {
    const auto& cp = checkpoints_[next_checkpoint_];
    problems_.push_back("checkpoint of tree size " + std::to_string(cp.tree_size) + " is beyond the " +
                        std::to_string(range_.size()) + " events that remain: events were deleted");
  }
  if (problems_.size() > kMaxProblems) problems_.resize(kMaxProblems);
  return std::move(problems_);
}

}  // namespace dpost::server::sqlite
