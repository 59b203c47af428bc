// HTTP glue for labels and receipts: access rules, parameters and headers here; drawing in shared/label.hpp.
// Rendering is CPU work, so every route runs on the worker pool (Exec::worker), never on a socket thread.

#include "label_routes.hpp"

#include "api.hpp"
#include "api_error.hpp"
#include "authorize.hpp"
#include "route_util.hpp"
#include "text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace dpost::server {
namespace {

using json = nlohmann::json;

LabelParty office_party(const Site& site) {
  LabelParty p{site.name, {}};
  if (!site.address.empty()) p.lines.push_back(site.address);
  if (!site.agency_id.empty()) p.lines.push_back("Mã định danh: " + site.agency_id);
  return p;
}

LabelParty site_party(Storage& storage, const std::string& code) {
  if (auto site = storage.find_site(code)) return office_party(*site);
  return {code, {}};
}

// A citizen as the sender of a dossier: the ward/district is enough for the post to return it.
LabelParty applicant_sender(const Applicant& a) {
  LabelParty p{a.name, {}};
  if (auto locality = address_locality(a.address); !locality.empty()) p.lines.push_back(locality);
  return p;
}

// A citizen as the recipient: the full delivery address and the last digits of the phone, for the courier to
// call ahead; the full number stays in the system.
LabelParty applicant_recipient(const Applicant& a) {
  LabelParty p{a.name, {}};
  if (!a.address.empty()) p.lines.push_back(a.address);
  if (!a.phone.empty()) p.lines.push_back("ĐT: " + mask_phone(a.phone));
  return p;
}

std::string printed_date(UnixMillis t) {
  return format_date_dmy(format_date_vn(t));
}

ItemId parse_item(std::string_view text) {
  auto id = ItemId::parse(text);
  if (!id) throw unprocessable(std::string(to_code(id.error())), std::string(describe(id.error())));
  return *id;
}

LabelFormat parse_format(const HttpRequest& req) {
  const auto text = req.query_param("format");
  if (text.empty()) return LabelFormat::png;
  auto format = parse_label_format(text);
  if (!format) throw unprocessable("unsupported_format", "format must be png, svg, pdf or zpl.");
  return *format;
}

int parse_dpi(const HttpRequest& req) {
  const auto text = req.query_param("dpi");
  if (text.empty()) return 203;
  int dpi = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), dpi);
  if (ec != std::errc() || end != text.data() + text.size() || !is_supported_dpi(dpi)) {
    throw unprocessable("unsupported_dpi", "dpi must be 203 or 300 (the thermal printers' resolutions).");
  }
  return dpi;
}

HttpResponse document(std::string body, std::string_view content_type, const std::string& filename) {
  HttpResponse r;
  r.status = 200;
  r.content_type = std::string(content_type);
  r.body = std::move(body);
  r.headers.emplace_back("Content-Disposition", "inline; filename=\"" + filename + "\"");
  // Labels carry names and addresses: no shared cache may keep them.
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

LabelData label_data_for(Storage& storage, const ItemView& item, const std::string& public_base_url) {
  const auto& d = item.dossier;
  LabelData label;
  label.item_id = item.item_id;
  label.kind = item.kind;
  label.tracking_url = public_base_url + "/t/" + item.tracking_token;
  switch (item.kind) {
    case ItemKind::dossier:
      label.sender = applicant_sender(d.applicant);
      label.recipient = site_party(storage, item.destination_site.empty() ? d.office : item.destination_site);
      break;
    case ItemKind::result:
      label.sender = site_party(storage, item.origin_site);
      label.recipient = applicant_recipient(d.applicant);
      break;
    case ItemKind::return_item:
      label.sender = site_party(storage, item.origin_site);
      label.recipient =
          item.destination_site.empty() ? applicant_recipient(d.applicant) : site_party(storage, item.destination_site);
      break;
  }
  label.procedure_code = d.procedure_code;
  label.procedure_name = d.procedure_name;
  label.dossier_code = d.dossier_code.value_or("");
  label.service = d.service;
  label.date = printed_date(item.created_at);
  return label;
}

ReceiptData receipt_data_for(Storage& storage, const DossierInfo& dossier, const std::string& public_base_url) {
  const auto summary = std::find_if(dossier.items.begin(), dossier.items.end(),
                                    [](const ItemSummary& i) { return i.kind == ItemKind::dossier; });
  if (summary == dossier.items.end()) {
    throw conflict("no_dossier_item", "Dossier " + std::to_string(dossier.id) +
                                          " is not sent by post (service \"receive\"): there is no pickup receipt.");
  }
  auto id = ItemId::parse(summary->item_id);
  auto item = id ? storage.find_item(*id) : std::nullopt;
  if (!item) throw not_found("There is no item " + summary->item_id + ".", "unknown_item");

  ReceiptData r;
  r.item_id = item->item_id;
  r.tracking_url = public_base_url + "/t/" + item->tracking_token;
  r.lookup_code = item->lookup_code;
  r.dossier_code = dossier.dossier_code.value_or("");
  r.procedure_code = dossier.procedure_code;
  r.procedure_name = dossier.procedure_name;
  r.applicant_name = dossier.applicant.name;
  r.applicant_address = dossier.applicant.address;
  // The citizen keeps the paper, and papers get lost: the phone is masked there too, the ID number absent.
  r.applicant_phone = dossier.applicant.phone.empty() ? "" : mask_phone(dossier.applicant.phone);
  r.office_name = dossier.office_name.empty() ? dossier.office : dossier.office_name;
  if (auto site = storage.find_site(dossier.origin_site)) r.post_office_name = site->name;
  r.clerk_name = dossier.created_by;
  for (const auto& user : storage.list_users()) {
    if (user.username == dossier.created_by && !user.full_name.empty()) r.clerk_name = user.full_name;
  }
  r.service = dossier.service;
  r.date = printed_date(dossier.created_at);
  r.due_date = dossier.due_date ? format_date_dmy(*dossier.due_date) : "";
  for (const auto& doc : dossier.documents)
    r.documents.push_back({doc.name, std::string(describe_vi(doc.kind)), doc.count});
  r.fee_vnd = dossier.fee_vnd;
  return r;
}

void add_label_routes(Router& router, RouteContext& context) {
  RouteContext* ctx = &context;

  router.add("GET", "/api/v1/items/{item_id}/label", [ctx](HttpRequest& req, Reply reply) {
    const auto actor = ctx->authenticate(req);
    const auto format = parse_format(req);
    const int dpi = parse_dpi(req);
    const auto id = parse_item(req.param("item_id"));
    auto item = ctx->storage.find_item(id);
    if (!item) throw not_found("There is no item " + id.str() + ".", "unknown_item");
    const auto facts = facts_of(*item);
    ctx->require(actor, AccessRequest{Action::print_label, &facts}, id.str());
    auto data = label_data_for(ctx->storage, *item, ctx->options.public_base_url);
    ctx->disclose(actor, id.str(), item->dossier.office, reply, [data = std::move(data), format, dpi, id] {
      return document(render_label(data, format, dpi), content_type(format),
                      id.str() + "." + std::string(file_extension(format)));
    });
  });

  router.add("POST", "/api/v1/labels/sheet", [ctx](HttpRequest& req, Reply reply) {
    const auto actor = ctx->authenticate(req);
    const json body = parse_json_body(req);
    if (!body.is_object() || !body.contains("items") || !body["items"].is_array()) {
      throw bad_request("The body must be {\"items\": [\"EE123456785VN\", ...]}.");
    }
    const auto& items = body["items"];
    if (items.empty()) throw unprocessable("no_items", "items must name at least one item.");
    if (items.size() > kMaxSheetItems) {
      throw ApiError(413, "batch_too_large",
                     "A sheet holds at most " + std::to_string(kMaxSheetItems) + " items; this request has " +
                         std::to_string(items.size()) + ": split it.");
    }
    std::vector<LabelData> labels;
    labels.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) throw bad_request("items[" + std::to_string(i) + "] must be a string.");
      const auto text = items[i].get<std::string>();
      auto id = ItemId::parse(text);
      if (!id) {
        throw unprocessable(std::string(to_code(id.error())),
                            "items[" + std::to_string(i) + "] (" + text + "): " + std::string(describe(id.error())));
      }
      auto item = ctx->storage.find_item(*id);
      if (!item) throw not_found("There is no item " + id->str() + ".", "unknown_item");
      const auto facts = facts_of(*item);
      ctx->require(actor, AccessRequest{Action::print_label, &facts}, id->str());
      labels.push_back(label_data_for(ctx->storage, *item, ctx->options.public_base_url));
    }
    std::string target = "sheet of " + std::to_string(labels.size()) + ":";
    for (const auto& l : labels) target += " " + l.item_id;
    ctx->disclose(actor, target, actor.site, reply, [labels = std::move(labels)] {
      const auto today = format_date_vn(now_millis());
      return document(render_label_sheet(labels), content_type(LabelFormat::pdf), "labels-" + today + ".pdf");
    });
  });

  router.add("GET", "/api/v1/dossiers/{id}/receipt", [ctx](HttpRequest& req, Reply reply) {
    const auto actor = ctx->authenticate(req);
    const auto id = parse_path_id(req.param("id"), "dossier");
    auto dossier = ctx->storage.find_dossier(id);
    if (!dossier) throw not_found("There is no dossier " + std::string(req.param("id")) + ".");
    const auto facts = facts_of(*dossier, ctx->storage.dossier_routes(id));
    ctx->require(actor, AccessRequest{Action::print_label, &facts}, "dossier " + std::to_string(id));
    auto data = receipt_data_for(ctx->storage, *dossier, ctx->options.public_base_url);
    ctx->disclose(actor, "receipt of dossier " + std::to_string(id), dossier->office, reply,
                  [data = std::move(data), id] {
                    return document(render_receipt(data), content_type(LabelFormat::pdf),
                                    "receipt-" + std::to_string(id) + ".pdf");
                  });
  });
}

}  // namespace dpost::server
