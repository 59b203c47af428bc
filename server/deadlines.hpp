#pragma once
// Deadlines as the server answers them: each dossier judged under the rule set it was received under
// (parsed once per rule set and kept), and the JSON shape of a verdict.

#include "deadline.hpp"
#include "storage.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>

namespace dpost::server {

class DeadlineBook {
 public:
  explicit DeadlineBook(Storage& storage) : storage_(storage) {}
  // nullopt when there is no such dossier. `rules_used`, when given, receives the rule set it was judged under
  // (its calendar also counts the working days between failed attempts), without reading the dossier again.
  std::optional<DossierVerdict> judge(std::int64_t dossier_id, UnixMillis now,
                                      std::shared_ptr<const RuleSet>* rules_used = nullptr);
  std::shared_ptr<const RuleSet> rules(std::int64_t rule_set_id);

 private:
  Storage& storage_;
  std::mutex mutex_;
  std::map<std::int64_t, std::shared_ptr<const RuleSet>> cache_;
};

// {"status", "due_at", "since", "completed_at", "provisional"}; times RFC 3339, null when absent.
nlohmann::json timeliness_json(const Timeliness& t);
// The dossier's verdict: {"timeliness", "received_at", "paused", "late_parts", "legs": [{"item_id", "kind",
// "limit_days", "timeliness"}]}.
nlohmann::json verdict_json(const DossierVerdict& v);
// The leg verdict of one item of the dossier, if it has one.
const LegVerdict* leg_of(const DossierVerdict& v, std::string_view item_id);

}  // namespace dpost::server
