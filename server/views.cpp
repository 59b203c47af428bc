#include "views.hpp"

#include "merkle.hpp"
#include "signing.hpp"
#include "text.hpp"

namespace dpost::server {
namespace {

std::string format_time(UnixMillis t) {
  return format_rfc3339(t);
}

}  // namespace

json item_summary_json(const ItemSummary& s) {
  return {{"item_id", s.item_id}, {"kind", to_string(s.kind)}, {"state", to_string(s.state)}};
}

json event_json(const EventRecord& e) {
  json j = {{"event_id", e.event_id},
            {"item_id", e.item_id},
            {"code", to_string(e.code)},
            {"site", e.site},
            {"site_name", e.site_name},
            {"occurred_at", format_time(e.occurred_at)},
            {"received_at", format_time(e.received_at)},
            {"late", e.late},
            {"recorded_by", e.recorded_by},
            {"state_after", to_string(e.state_after)},
            {"text", describe_vi(e.code)},
            {"text_en", describe_en(e.code)}};
  if (e.reason) j["reason"] = *e.reason;
  if (e.device) j["device"] = *e.device;
  if (e.clock_offset_ms) j["clock_offset_ms"] = *e.clock_offset_ms;
  if (e.recipient) {
    j["recipient"] = {{"name", e.recipient->name}, {"id_checked", e.recipient->id_checked}};
    if (e.recipient->relation) j["recipient"]["relation"] = *e.recipient->relation;
    if (const auto& doc = e.recipient->id_document) {
      j["recipient"]["id_document"] = {
          {"type", to_string(doc->type)}, {"type_text", describe_vi(doc->type)}, {"number", doc->number_masked}};
    }
    if (const auto& auth = e.recipient->authorization) {
      j["recipient"]["authorization"] = {{"number", auth->number}, {"date", auth->date}};
    }
  }
  put_failure_codes(j, e.reason_code, e.action);
  if (e.seal_intact) j["seal_intact"] = *e.seal_intact;
  if (e.issue) {
    j["issue"] = to_string(*e.issue);
    j["issue_text"] = describe_vi(*e.issue);
    j["issue_text_en"] = describe_en(*e.issue);
  }
  if (e.device_seq) j["device_seq"] = *e.device_seq;
  if (e.device_id) j["signed_by_device"] = *e.device_id;
  if (e.ledger_index) j["ledger_index"] = *e.ledger_index;
  return j;
}

void put_failure_codes(json& j, const std::optional<FailureReason>& reason,
                       const std::optional<FailureAction>& action) {
  if (reason) {
    j["reason_code"] = to_string(*reason);
    j["reason_code_text"] = describe_vi(*reason);
    j["reason_code_text_en"] = describe_en(*reason);
  }
  if (action) {
    j["action"] = to_string(*action);
    j["action_text"] = describe_vi(*action);
    j["action_text_en"] = describe_en(*action);
  }
}

json user_json(const User& u) {
  json j = {{"id", u.id},     {"username", u.username},   {"role", to_string(u.role)},
            {"site", u.site}, {"full_name", u.full_name}, {"active", u.active}};
  if (u.site.empty()) j["site"] = nullptr;
  if (u.role == Role::supervisor) j["scope"] = u.scope;
  return j;
}

json site_json(const Site& s) {
  return {{"code", s.code},
          {"kind", to_string(s.kind)},
          {"name", s.name},
          {"agency_id", s.agency_id},
          {"address", s.address},
          {"serving_post_office", s.serving_post_office.empty() ? json(nullptr) : json(s.serving_post_office)},
          {"province_code", s.province_code},
          {"area", s.area ? json(to_string(*s.area)) : json(nullptr)}};
}

// Staff see the applicant; a clerk never sees the ID number (design.md section 5).
json dossier_json(const DossierInfo& d, const Actor& viewer) {
  json applicant = {{"name", d.applicant.name}, {"phone", d.applicant.phone}, {"address", d.applicant.address}};
  if (viewer.role != Role::clerk) applicant["id_number"] = d.applicant.id_number;
  json items = json::array();
  for (const auto& i : d.items) items.push_back(item_summary_json(i));
  json documents = json::array();
  for (const auto& doc : d.documents) {
    documents.push_back({{"name", doc.name}, {"kind", to_string(doc.kind)}, {"count", doc.count}});
  }
  json j = {{"id", d.id},
            {"documents", std::move(documents)},
            {"created_by", d.created_by},
            {"procedure",
             {{"code", d.procedure_code},
              {"name", d.procedure_name},
              {"category", d.procedure_category ? json(*d.procedure_category) : json(nullptr)}}},
            {"applicant", std::move(applicant)},
            {"office", d.office},
            {"office_name", d.office_name},
            {"origin_site", d.origin_site},
            {"service", to_string(d.service)},
            {"created_at", format_time(d.created_at)},
            {"items", std::move(items)}};
  j["dossier_code"] = d.dossier_code ? json(*d.dossier_code) : json(nullptr);
  j["due_date"] = d.due_date ? json(*d.due_date) : json(nullptr);
  j["processing_days"] = d.processing_days ? json(*d.processing_days) : json(nullptr);
  j["fee_vnd"] = d.fee_vnd ? json(*d.fee_vnd) : json(nullptr);
  return j;
}

json checkpoint_json(const LedgerCheckpoint& cp) {
  return {{"origin", "dossier-post/ledger"},
          {"tree_size", cp.tree_size},
          {"root_hash", merkle::to_hex(cp.root_hash)},
          {"timestamp", format_rfc3339(cp.created_at)},
          {"key_id", cp.key_id},
          {"signature", signing::base64_encode(std::span(reinterpret_cast<const unsigned char*>(cp.signature.data()),
                                                         cp.signature.size()))},
          {"text", cp.text}};
}

json inclusion_json(const InclusionProof& p) {
  json path = json::array();
  for (const auto& h : p.path) path.push_back(merkle::to_hex(h));
  json j = {{"event_id", p.event_id},
            {"item_id", p.item_id},
            {"leaf_index", p.leaf_index},
            {"tree_size", p.tree_size},
            {"leaf_hash", merkle::to_hex(p.leaf_hash)},
            {"audit_path", std::move(path)},
            {"root_hash", merkle::to_hex(p.root_hash)},
            {"leaf_public", p.leaf_public},
            {"personal_commitment", merkle::to_hex(p.personal_commitment)}};
  j["checkpoint"] = p.checkpoint ? checkpoint_json(*p.checkpoint) : json(nullptr);
  return j;
}

json custody_json(const Custody& c) {
  json j = {{"holder", c.holder}, {"awaiting_confirmation", c.awaiting_confirmation}};
  j["site"] = c.site.empty() ? json(nullptr) : json(c.site);
  j["since"] = c.since ? json(format_time(c.since)) : json(nullptr);
  if (c.awaiting_confirmation) j["awaiting_site"] = c.awaiting_site.empty() ? json(nullptr) : json(c.awaiting_site);
  return j;
}

json item_json(const ItemView& v, const Actor& viewer, const std::string& public_base_url) {
  json events = json::array();
  for (const auto& e : v.events) events.push_back(event_json(e));
  json route = json::array();
  for (const auto& stop : v.route) route.push_back({{"site", stop.site}, {"role", stop.role}});
  json j = {{"item_id", v.item_id},
            {"kind", to_string(v.kind)},
            {"state", to_string(v.state)},
            {"state_text", describe_vi(v.kind, v.state)},
            {"state_text_en", describe_en(v.kind, v.state)},
            {"origin_site", v.origin_site},
            {"created_at", format_time(v.created_at)},
            {"tracking_token", v.tracking_token},
            {"tracking_url", public_base_url + "/t/" + v.tracking_token},
            {"allowed", json::array()},
            {"route", std::move(route)},
            {"custody", custody_json(v.custody)},
            {"dossier", dossier_json(v.dossier, viewer)},
            {"events", std::move(events)}};
  j["destination_site"] = v.destination_site.empty() ? json(nullptr) : json(v.destination_site);
  // The second factor printed on the receipt: for the staff who print it, never for supervisors' screens.
  if (viewer.role == Role::clerk || viewer.role == Role::office_staff) j["lookup_code"] = v.lookup_code;
  for (auto c : allowed_codes(v.kind, v.state)) j["allowed"].push_back(to_string(c));
  return j;
}

}  // namespace dpost::server
