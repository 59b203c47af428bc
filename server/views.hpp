#pragma once

// JSON views of what storage returns, shared by the route files so that an item, an event or a dossier reads
// the same in every answer.

#include "storage.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace dpost::server {

using json = nlohmann::json;

json item_summary_json(const ItemSummary& s);
// A failed attempt's coded reason and action, each with its texts ("reason_code", "reason_code_text",
// "reason_code_text_en"; "action", "action_text", "action_text_en"); nothing when absent.
void put_failure_codes(json& j, const std::optional<FailureReason>& reason, const std::optional<FailureAction>& action);
json event_json(const EventRecord& e);
json user_json(const User& u);
json site_json(const Site& s);
// Staff see the applicant; a clerk never sees the ID number (design.md section 5).
json dossier_json(const DossierInfo& d, const Actor& viewer);
json custody_json(const Custody& c);
// A signed tree head: {"origin", "tree_size", "root_hash" (hex), "timestamp", "key_id", "signature" (base64),
// "text" (exactly what was signed)}.
json checkpoint_json(const LedgerCheckpoint& cp);
json inclusion_json(const InclusionProof& p);
// GET /api/v1/items/{item_id}: the item, its dossier, route, custody and full history.
json item_json(const ItemView& v, const Actor& viewer, const std::string& public_base_url);

}  // namespace dpost::server
