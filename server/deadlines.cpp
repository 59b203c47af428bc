#include "deadlines.hpp"

#include <stdexcept>

namespace dpost::server {

using nlohmann::json;

std::shared_ptr<const RuleSet> DeadlineBook::rules(std::int64_t rule_set_id) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(rule_set_id); it != cache_.end()) return it->second;
  }
  auto texts = storage_.rule_set(rule_set_id);
  if (!texts) throw std::runtime_error("rule set " + std::to_string(rule_set_id) + " is missing from the database");
  // Stored texts were valid when stored; parsing them again gives the same rules (the parser only grows).
  auto parsed = std::make_shared<const RuleSet>(RuleSet::from_texts(texts->calendar, texts->leg_limits));
  std::lock_guard lock(mutex_);
  return cache_.emplace(rule_set_id, std::move(parsed)).first->second;
}

std::optional<DossierVerdict> DeadlineBook::judge(std::int64_t dossier_id, UnixMillis now,
                                                  std::shared_ptr<const RuleSet>* rules_used) {
  const auto facts = storage_.deadline_facts(dossier_id);
  if (!facts) return std::nullopt;
  auto set = rules(facts->rule_set_id);
  if (rules_used) *rules_used = set;
  return judge_dossier(facts->input, *set, now);
}

namespace {
json time_or_null(const std::optional<UnixMillis>& t) {
  return t ? json(format_rfc3339(*t)) : json(nullptr);
}
}  // namespace

json timeliness_json(const Timeliness& t) {
  return {{"status", t.status},
          {"due_at", time_or_null(t.due_at)},
          {"since", format_rfc3339(t.since)},
          {"completed_at", time_or_null(t.completed_at)},
          {"provisional", t.provisional}};
}

json verdict_json(const DossierVerdict& v) {
  json legs = json::array();
  for (const auto& l : v.legs) {
    legs.push_back({{"item_id", l.item_id},
                    {"kind", to_string(l.kind)},
                    {"limit_days", l.limit_days},
                    {"timeliness", timeliness_json(l.timeliness)}});
  }
  return {{"timeliness", timeliness_json(v.timeliness)},
          {"received_at", time_or_null(v.received_at)},
          {"paused", v.paused},
          {"late_parts", v.late_parts},
          {"legs", std::move(legs)}};
}

const LegVerdict* leg_of(const DossierVerdict& v, std::string_view item_id) {
  for (const auto& l : v.legs) {
    if (l.item_id == item_id) return &l;
  }
  return nullptr;
}

}  // namespace dpost::server
