#include "api.hpp"
#include "api_error.hpp"
#include "embedded_file.hpp"
#include "route_util.hpp"
#include "text.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <variant>

namespace dpost::server {

std::span<const dpost::EmbeddedFile> web_files();              // generated from server/web/*
std::span<const dpost::EmbeddedFile> api_description_files();  // generated from docs/openapi.json

namespace {

using nlohmann::json;

// Pages for citizens, rendered on the server: they work without JavaScript on a slow phone connection, carry
// no external assets, and never show more than the API would (public view; masked names with the QR token).

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;color:#1a1a1a;background:#f5f6f8;line-height:1.45}
header{background:#0b4f9c;color:#fff;padding:14px 16px}header a{color:#fff;text-decoration:none}
h1{font-size:1.15rem;margin:0}h2{font-size:1.05rem;margin:0 0 10px}main{max-width:640px;margin:0 auto;padding:16px}
.en{color:#555;font-size:.85em}.card{background:#fff;border-radius:8px;padding:16px;margin-bottom:16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.state{font-size:1.25rem;font-weight:700;color:#0b4f9c}.id{font-family:ui-monospace,"DejaVu Sans Mono",monospace;letter-spacing:.05em;white-space:nowrap}
ol{list-style:none;padding:0;margin:0}li{border-left:3px solid #0b4f9c;padding:0 0 14px 14px;position:relative}
li:before{content:"";position:absolute;left:-7px;top:4px;width:11px;height:11px;border-radius:50%;background:#0b4f9c}
li:last-child{border-left-color:transparent}time{color:#444;font-size:.9em}
form{display:flex;gap:8px;flex-wrap:wrap}label{width:100%}input{flex:1;min-width:0;font-size:1.05rem;padding:10px;border:1px solid #888;border-radius:6px}
button{font-size:1.05rem;padding:10px 16px;border:0;border-radius:6px;background:#0b4f9c;color:#fff}
.muted{color:#555}footer{max-width:640px;margin:0 auto;padding:0 16px 24px;color:#555;font-size:.85em}
.tag{display:inline-block;font-size:.8rem;font-weight:600;color:#0b4f9c;background:#e6eef8;border-radius:4px;padding:0 6px}
li.leg-result{border-left-color:#1b6e3a}li.leg-result:before{background:#1b6e3a}li.leg-result .tag{color:#1b6e3a;background:#e3f2e8}
ul.legs{padding-left:18px}ul.legs li{border:0;padding:2px 0}ul.legs li:before{display:none}
fieldset{border:1px solid #bbb;border-radius:6px;width:100%}legend{float:left;width:100%;padding:0;margin-bottom:8px}
label.inline{width:auto;display:inline-flex;align-items:center;gap:8px;min-height:44px;box-sizing:border-box;padding:6px 14px;margin:0 6px 6px 0;border:1px solid #bbb;border-radius:6px}
input[type=radio]{flex:none;width:22px;height:22px;margin:0}form.stack input{flex:1 1 100%}
button .en,header .en{color:#dfe8f5}strong.next{display:inline-block;margin-top:4px;font-size:1rem;color:#1a1a1a}strong.late{color:#7a0c07}
.ok{border-left:6px solid #1b6e3a}.fail{border-left:6px solid #b3261e}
)";

std::string page(std::string_view title, std::string_view body) {
  std::string html;
  html.reserve(4096 + body.size());
  html += "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">";
  html += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  html += "<title>";
  html += escape_html(title);
  html += "</title><link rel=\"icon\" href=\"/favicon.ico\" type=\"image/svg+xml\"><style>";
  html += kStyle;
  html += "</style></head><body><header><h1><a href=\"/\">Dossier Post · Tra cứu hồ sơ qua bưu điện</a></h1>";
  html += "</header><main>";
  html += body;
  html +=
      "</main><footer>Thông tin công khai không gồm dữ liệu cá nhân. "
      "<span class=\"en\">Public information holds no personal data.</span></footer></body></html>";
  return html;
}

HttpResponse html_response(unsigned status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  // The QR link carries a secret token: it must not leak through a Referer, and the page loads nothing else.
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string search_form(std::string_view value) {
  std::string out =
      "<form method=\"get\" action=\"/track\"><label for=\"q\">Mã bưu gửi hoặc mã hồ sơ trên phiếu "
      "<span class=\"en\">Item number or dossier code on your receipt</span></label>";
  out +=
      "<input id=\"q\" name=\"q\" autocomplete=\"off\" inputmode=\"text\" placeholder=\"EH 000 000 014 VN\" value=\"";
  out += escape_html(value);
  out +=
      "\" required><label for=\"code\">Mã tra cứu (6 chữ số trên phiếu, không bắt buộc) <span class=\"en\">Look-up "
      "code (6 digits on the receipt, optional)</span></label><input id=\"code\" name=\"code\" autocomplete=\"off\" "
      "inputmode=\"numeric\" pattern=\"[0-9]{6}\" maxlength=\"6\"><button type=\"submit\">Tra cứu <span "
      "class=\"en\">Track</span></button></form>";
  return out;
}

std::string_view kind_vi(ItemKind kind) {
  switch (kind) {
    case ItemKind::dossier:
      return "Hồ sơ gửi đến cơ quan";
    case ItemKind::result:
      return "Kết quả gửi về công dân";
    case ItemKind::return_item:
      return "Bưu gửi chuyển hoàn";
  }
  return "";
}

std::string_view kind_en(ItemKind kind) {
  switch (kind) {
    case ItemKind::dossier:
      return "Dossier on its way to the office";
    case ItemKind::result:
      return "Result on its way to the citizen";
    case ItemKind::return_item:
      return "Returned item";
  }
  return "";
}

std::string_view leg_vi(ItemKind kind) {
  switch (kind) {
    case ItemKind::dossier:
      return "Hồ sơ → cơ quan";
    case ItemKind::result:
      return "Kết quả → công dân";
    case ItemKind::return_item:
      return "Chuyển hoàn";
  }
  return "";
}

std::string_view leg_en(ItemKind kind) {
  switch (kind) {
    case ItemKind::dossier:
      return "Dossier → office";
    case ItemKind::result:
      return "Result → you";
    case ItemKind::return_item:
      return "Return";
  }
  return "";
}

std::string date_dmy(const std::string& iso) {
  return iso.size() == 10 ? iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4) : iso;
}

// Every item of the looked-up item's dossier (the dossier going to the office, the result coming back, a
// return), each with its public view: both legs on one page. The looked-up item comes first when alone.
std::vector<PublicItemView> dossier_legs(Storage& storage, const PublicItemView& looked_up) {
  std::vector<PublicItemView> legs;
  const auto id = ItemId::parse(looked_up.item_id);
  const auto dossier_id = id ? storage.dossier_of_item(*id) : std::nullopt;
  const auto dossier = dossier_id ? storage.find_dossier(*dossier_id) : std::nullopt;
  if (dossier) {
    for (const auto& summary : dossier->items) {
      if (summary.item_id == looked_up.item_id) {
        legs.push_back(looked_up);
      } else if (auto other = ItemId::parse(summary.item_id)) {
        if (auto v = storage.track_item(*other)) legs.push_back(std::move(*v));
      }
    }
  }
  if (legs.empty()) legs.push_back(looked_up);
  return legs;
}

// What the citizen's secret (QR token or receipt code) opens for the whole dossier: masked names, due date.
CitizenDetails legs_details(Storage& storage, const std::vector<PublicItemView>& legs) {
  CitizenDetails merged;
  for (const auto& leg : legs) {
    auto d = citizen_details(storage, leg.item_id);
    if (merged.applicant.empty()) merged.applicant = d.applicant;
    if (!merged.due_date) merged.due_date = d.due_date;
    merged.recipients.merge(d.recipients);
  }
  return merged;
}

// The leg the citizen cares about now: the newest one that has started, else the first.
const PublicItemView& current_leg(const std::vector<PublicItemView>& legs) {
  const PublicItemView* current = &legs.front();
  for (const auto& leg : legs) {
    if (!leg.events.empty() &&
        (current->events.empty() || leg.events.back().occurred_at >= current->events.back().occurred_at)) {
      current = &leg;
    }
  }
  return *current;
}

struct CitizenActions {
  std::string token;  // the QR token: the forms post to /t/{token}/...; empty: no forms
  bool can_redeliver = false;
  bool can_rate = false;
  std::string done;      // "redelivery" or "rating" after a form was sent
  std::string error_vi;  // a refused form
  std::string error_en;
};

std::string actions_html(const CitizenActions& a) {
  std::string b;
  if (!a.done.empty()) {
    b += "<section class=\"card ok\" role=\"status\"><p>";
    b += a.done == "rating" ? "Cảm ơn bạn đã đánh giá. <span class=\"en\">Thank you for your rating.</span>"
                            : "Đã gửi yêu cầu phát lại: bưu điện sẽ liên hệ với bạn. <span class=\"en\">Redelivery "
                              "requested: the post will contact you.</span>";
    b += "</p></section>";
  }
  if (!a.error_vi.empty()) {
    b += "<section class=\"card fail\" role=\"alert\"><p>" + escape_html(a.error_vi) + " <span class=\"en\">" +
         escape_html(a.error_en) + "</span></p></section>";
  }
  if (a.token.empty()) return b;
  const auto base = "/t/" + escape_html(a.token);
  if (a.can_redeliver) {
    b += "<section class=\"card\"><h2>Yêu cầu phát lại <span class=\"en\">Ask for a new delivery</span></h2>";
    b += "<form class=\"stack\" method=\"post\" action=\"" + base + "/redelivery\">";
    b += "<label for=\"preferred_date\">Ngày bạn có nhà (không bắt buộc) <span class=\"en\">A day you are at home "
         "(optional)</span></label><input id=\"preferred_date\" name=\"preferred_date\" type=\"date\">";
    b += "<label for=\"note\">Ghi chú cho bưu tá (không bắt buộc) <span class=\"en\">Note for the postman "
         "(optional)</span></label><input id=\"note\" name=\"note\" maxlength=\"200\">";
    b += "<button type=\"submit\">Gửi yêu cầu <span class=\"en\">Send</span></button></form></section>";
  }
  if (a.can_rate) {
    b += "<section class=\"card\"><h2>Đánh giá dịch vụ <span class=\"en\">Rate the service</span></h2>";
    b += "<form class=\"stack\" method=\"post\" action=\"" + base +
         "/rating\"><fieldset><legend>Mức độ hài lòng (1 = rất không hài "
         "lòng, 5 = rất hài lòng) <span class=\"en\">Satisfaction (1 = very poor, 5 = very good)</span></legend>";
    for (int i = 1; i <= 5; ++i) {
      const auto n = std::to_string(i);
      b += "<label class=\"inline\" for=\"rating" + n + "\"><input type=\"radio\" id=\"rating" + n +
           "\" name=\"rating\" value=\"" + n + "\"" + (i == 5 ? " required" : "") + "> " + n + "</label>";
    }
    b += "</fieldset><label for=\"comment\">Góp ý (không bắt buộc) <span class=\"en\">Comment (optional)</span>"
         "</label><input id=\"comment\" name=\"comment\" maxlength=\"500\">";
    b += "<button type=\"submit\">Gửi đánh giá <span class=\"en\">Send rating</span></button></form></section>";
  }
  return b;
}

std::string item_page(const std::vector<PublicItemView>& legs, const CitizenDetails* citizen,
                      const CitizenActions& actions) {
  const auto& v = current_leg(legs);
  std::string b = "<section class=\"card\"><div class=\"id\">";
  const auto id = ItemId::parse(v.item_id);
  b += escape_html(id ? id->grouped() : v.item_id);
  b += "</div><div>";
  b += escape_html(kind_vi(v.kind));
  b += " <span class=\"en\">";
  b += escape_html(kind_en(v.kind));
  b += "</span></div><p class=\"state\">";
  b += escape_html(describe_vi(v.kind, v.state));
  b += "<br><span class=\"en\">";
  b += escape_html(describe_en(v.kind, v.state));
  b += "</span>";
  // After a failed attempt the headline says what happens now: held where, coming again, or going back.
  if (!v.events.empty() && v.events.back().code == EventCode::EMH && v.events.back().action &&
      (v.state == ItemState::attempt_failed || v.state == ItemState::attempts_exhausted)) {
    const auto& last = v.events.back();
    b += "<br><strong class=\"next\">" + escape_html(describe_vi(*last.action));
    if (*last.action == FailureAction::hold_at_post_office) b += ": " + escape_html(last.site_name);
    b += "</strong> <span class=\"en\">" + escape_html(describe_en(*last.action)) + "</span>";
  }
  b += "</p><p>";
  // Publicly only the procedure's field; the procedure itself with the citizen's secret.
  if (citizen) {
    b += "Thủ tục <span class=\"en\">Procedure</span>: " + escape_html(v.procedure_name);
  } else {
    b += "Lĩnh vực <span class=\"en\">Field</span>: " + escape_html(v.procedure_category);
  }
  if (!v.destination_name.empty()) {
    b += "<br>Cơ quan giải quyết <span class=\"en\">Office</span>: ";
    b += escape_html(v.destination_name);
  }
  if (citizen) {
    b += "<br>Người nộp <span class=\"en\">Applicant</span>: ";
    b += escape_html(citizen->applicant);
    if (citizen->due_date) {
      b += "<br>Ngày hẹn trả kết quả <span class=\"en\">Result due</span>: <strong>";
      b += escape_html(date_dmy(*citizen->due_date));
      b += "</strong>";
      // Past the due date and the result not in the citizen's hands: say so, and whom to ask.
      const bool has_result = std::any_of(legs.begin(), legs.end(), [](const PublicItemView& l) {
        return l.kind == ItemKind::result && l.state == ItemState::delivered;
      });
      if (!has_result && *citizen->due_date < format_date_vn(now_millis())) {
        b += "<br><strong class=\"late\">Đã quá ngày hẹn trả, kết quả chưa đến tay bạn.</strong> ";
        for (const auto& l : legs) {
          if (l.kind != ItemKind::dossier || l.destination_name.empty()) continue;
          b += "Bạn có thể liên hệ " + escape_html(l.destination_name) + ". ";
          break;
        }
        b += "<span class=\"en\">Past the due date: the result has not reached you yet.</span>";
      }
    }
  }
  b += "</p>";
  if (legs.size() > 1) {
    b += "<ul class=\"legs\">";
    for (const auto& leg : legs) {
      const auto leg_id = ItemId::parse(leg.item_id);
      b += "<li><span class=\"tag\">" + escape_html(leg_vi(leg.kind)) + "</span> <span class=\"id\">" +
           escape_html(leg_id ? leg_id->grouped() : leg.item_id) +
           "</span>: " + escape_html(describe_vi(leg.kind, leg.state)) + " <span class=\"en\">" +
           escape_html(describe_en(leg.kind, leg.state)) + "</span></li>";
    }
    b += "</ul>";
  }
  b += "</section>";
  b += actions_html(actions);
  b += "<section class=\"card\"><h2>Hành trình <span class=\"en\">Journey</span></h2>";
  struct Step {
    ItemKind kind;
    const PublicEvent* event;
  };
  std::vector<Step> steps;
  for (const auto& leg : legs) {
    for (const auto& e : leg.events) steps.push_back({leg.kind, &e});
  }
  // Newest first: what the citizen wants to know is where it is now.
  std::stable_sort(steps.begin(), steps.end(),
                   [](const Step& a, const Step& b) { return a.event->occurred_at > b.event->occurred_at; });
  if (steps.empty()) {
    b += "<p class=\"muted\">Bưu điện chưa nhận bưu gửi này. <span class=\"en\">Not yet handed to the post.</span></p>";
  } else {
    b += "<ol class=\"timeline\">";
    for (const auto& step : steps) {
      const auto& e = *step.event;
      b += "<li class=\"leg-" + std::string(to_string(step.kind)) + "\">";
      if (legs.size() > 1) {
        b += "<span class=\"tag\">" + escape_html(leg_vi(step.kind)) + " <span class=\"en\">" +
             escape_html(leg_en(step.kind)) + "</span></span><br>";
      }
      b += "<strong>";
      b += escape_html(describe_vi(e.code));
      b += "</strong> <span class=\"en\">";
      b += escape_html(describe_en(e.code));
      b += "</span><br><time datetime=\"";
      b += format_rfc3339(e.occurred_at);
      b += "\">";
      b += format_time_vn(e.occurred_at);
      b += "</time> · ";
      b += escape_html(e.site_name);
      if (citizen && e.reason_code) {
        b += "<br>Lý do <span class=\"en\">Reason</span>: " + escape_html(describe_vi(*e.reason_code)) +
             " <span class=\"en\">" + escape_html(describe_en(*e.reason_code)) + "</span>";
      }
      if (e.action) {
        b += "<br>Hướng xử lý <span class=\"en\">Next</span>: <strong>" + escape_html(describe_vi(*e.action)) +
             "</strong> <span class=\"en\">" + escape_html(describe_en(*e.action)) + "</span>";
      }
      if (citizen) {
        if (auto r = citizen->recipients.find(e.event_id); r != citizen->recipients.end()) {
          b += "<br>Người ký nhận <span class=\"en\">Signed for by</span>: " + escape_html(r->second);
        }
      }
      b += "</li>";
    }
    b += "</ol>";
  }
  b += "</section><section class=\"card\">";
  b += search_form("");
  b += "</section>";
  return page("Tra cứu " + v.item_id, b);
}

std::string not_found_page(std::string_view query, std::string_view message_vi, std::string_view message_en) {
  std::string b = "<section class=\"card\"><p class=\"state\">";
  b += escape_html(message_vi);
  b += "</p><p class=\"en\">";
  b += escape_html(message_en);
  b += "</p>";
  b += search_form(query);
  b += "</section>";
  return page("Không tìm thấy / Not found", b);
}

// The citizen pages share the public rate limit; over it they answer a page, not JSON.
bool public_rate_ok(RouteContext& ctx, const HttpRequest& req, const Reply& reply, std::string_view query) {
  try {
    ctx.check_public_rate(req);
    return true;
  } catch (const ApiError& e) {
    auto r = html_response(e.status(), not_found_page(query, "Bạn tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút.",
                                                      "Too many look-ups: please try again in a few minutes."));
    for (const auto& h : e.headers) r.headers.push_back(h);
    reply(std::move(r));
    return false;
  }
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

// A dossier code as typed (lower case, spaces around) in the form it is stored.
std::string upper_trimmed(std::string_view text) {
  auto out = trimmed(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// One field of an application/x-www-form-urlencoded body ('+' is a space), "" when absent.
std::string form_field(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    const auto amp = body.find('&');
    auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    std::replace(value.begin(), value.end(), '+', ' ');
    return percent_decode(value);
  }
  return "";
}

// Which forms the QR page offers: a new delivery after a failed attempt, a rating of the delivered result
// (once per delivery step).
CitizenActions actions_for(Storage& storage, const std::vector<PublicItemView>& legs, const std::string& token) {
  CitizenActions a;
  a.token = token;
  for (const auto& leg : legs) {
    if (leg.events.empty()) continue;
    const auto& last = leg.events.back();
    std::vector<CitizenRequest> asked;
    if (auto id = ItemId::parse(leg.item_id)) asked = storage.citizen_requests(*id);
    auto already = [&](std::string_view kind) {
      return std::any_of(asked.begin(), asked.end(),
                         [&](const CitizenRequest& r) { return r.kind == kind && r.after_event == last.event_id; });
    };
    if (redelivery_can_be_asked(leg.kind, leg.state) && last.code == EventCode::EMH && !already("redelivery")) {
      a.can_redeliver = true;
    }
    if (leg.kind == ItemKind::result && leg.state == ItemState::delivered && last.code == EventCode::EMI &&
        !already("rating")) {
      a.can_rate = true;
    }
  }
  return a;
}

struct RequestError {
  unsigned status = 422;
  std::string code;
  std::string vi;
  std::string en;
};

// A citizen's request from the form fields (or JSON), for the leg it concerns: the one a failed attempt left
// waiting (redelivery), or the delivered result (rating). The storage checks the state again when it writes.
std::variant<CitizenRequest, RequestError> citizen_request_of(const std::string& kind,
                                                              const std::vector<PublicItemView>& legs,
                                                              const std::string& rating, const std::string& comment,
                                                              const std::string& note,
                                                              const std::string& preferred_date) {
  CitizenRequest r;
  r.kind = kind;
  const PublicItemView* target = nullptr;
  for (const auto& leg : legs) {
    const bool fits = kind == "redelivery" ? redelivery_can_be_asked(leg.kind, leg.state)
                                           : leg.kind == ItemKind::result && leg.state == ItemState::delivered;
    if (fits) target = &leg;
  }
  if (!target) {
    return RequestError{409, "not_now",
                        kind == "redelivery" ? "Chỉ yêu cầu phát lại được sau một lần phát không thành công."
                                             : "Bạn có thể đánh giá sau khi đã nhận kết quả.",
                        kind == "redelivery" ? "A new delivery can be asked for after a failed attempt."
                                             : "A rating can be given once the result was delivered to you."};
  }
  r.item_id = target->item_id;
  const auto text = kind == "rating" ? trimmed(comment) : trimmed(note);
  const std::size_t max = kind == "rating" ? 500 : 200;
  if (!text.empty()) {
    if (text.size() > max || !is_clean_text(text)) {
      return RequestError{422, "invalid_text", "Ghi chú quá dài hoặc có ký tự không hợp lệ.",
                          "The comment is too long or holds characters that are not text."};
    }
    r.comment = text;
  }
  if (kind == "rating") {
    if (rating.size() != 1 || rating[0] < '1' || rating[0] > '5') {
      return RequestError{422, "bad_rating", "Hãy chọn mức từ 1 đến 5.", "Choose a rating from 1 to 5."};
    }
    r.rating = rating[0] - '0';
  } else if (!preferred_date.empty()) {
    const auto today = format_date_vn(now_millis());
    const auto latest = format_date_vn(now_millis() + 30LL * 24 * 60 * 60 * 1000);
    const bool well_formed = preferred_date.size() == 10 && parse_rfc3339(preferred_date + "T00:00:00+07:00");
    if (!well_formed) {
      return RequestError{422, "bad_date", "Ngày mong muốn không hợp lệ: hãy chọn một ngày (YYYY-MM-DD).",
                          "The preferred day must be a date as YYYY-MM-DD."};
    }
    if (preferred_date < today || preferred_date > latest) {
      return RequestError{422, "bad_date", "Ngày mong muốn phải trong 30 ngày tới.",
                          "The preferred day must be within the next 30 days."};
    }
    r.preferred_date = preferred_date;
  }
  return r;
}

const EmbeddedFile* find_web_file(std::string_view name) {
  for (const auto& f : web_files()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view content_type_for(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// The version of an embedded file, for caching: FNV-1a 64 of its bytes (they change only with a new build).
std::string etag_of(const EmbeddedFile& file) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : file.text) h = (h ^ c) * 1099511628211ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "\"";
  for (int shift = 60; shift >= 0; shift -= 4) tag.push_back(kHex[(h >> shift) & 15]);
  return tag + "\"";
}

// If-None-Match names this ETag, or is "*" (any version of a file that exists).
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  const auto first = if_none_match.find_first_not_of(" \t");
  const auto last = if_none_match.find_last_not_of(" \t");
  if (first != std::string_view::npos && if_none_match.substr(first, last - first + 1) == "*") return true;
  return if_none_match.find(etag) != std::string_view::npos;
}

// Staff pages: scripts and styles come only from this server; PDFs open from blob: URLs. Browsers keep them
// and revalidate each time (no-cache + ETag): an unchanged file costs one 304 with no body on a slow line,
// and a new build's files are never served stale.
HttpResponse staff_page(const HttpRequest& req, const EmbeddedFile& file) {
  HttpResponse r;
  const auto etag = etag_of(file);
  if (etag_matches(req.header("if-none-match"), etag)) {
    r.status = 304;
  } else {
    r.content_type = std::string(content_type_for(file.name));
    r.body = std::string(file.text);
  }
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; "
                         "frame-ancestors 'none'");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

// The API's OpenAPI description, embedded at build time: revalidated like the staff assets (ETag, 304), so a
// client generator or a monitoring check polling it costs a bodiless answer while the build is unchanged.
HttpResponse api_description(const HttpRequest& req) {
  const auto files = api_description_files();
  const auto& file = files.front();
  HttpResponse r;
  const auto etag = etag_of(file);
  if (etag_matches(req.header("if-none-match"), etag)) {
    r.status = 304;
  } else {
    r.content_type = "application/json";
    r.body = std::string(file.text);
  }
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace

void add_page_routes(Router& router, RouteContext& ctx) {
  router.add(
      "GET", "/api/v1/openapi.json", [](HttpRequest& req, Reply reply) { reply(api_description(req)); },
      Exec::inline_io);

  // The one-stop office desk (USB barcode scanner input); static, the data comes from the API.
  router.add(
      "GET", "/desk", [](HttpRequest& req, Reply reply) { reply(staff_page(req, *find_web_file("desk.html"))); },
      Exec::inline_io);
  // The post office clerk's page (phone or laptop): the scan flow with the event chooser, label printing.
  router.add(
      "GET", "/clerk", [](HttpRequest& req, Reply reply) { reply(staff_page(req, *find_web_file("clerk.html"))); },
      Exec::inline_io);
  // The supervisor's page: counts by state, what waits too long, on-time rates, CSV export.
  router.add(
      "GET", "/supervisor",
      [](HttpRequest& req, Reply reply) { reply(staff_page(req, *find_web_file("supervisor.html"))); },
      Exec::inline_io);
  // The tab icon, where browsers look for it unasked; the pages name it too (an SVG, which they all take).
  router.add(
      "GET", "/favicon.ico",
      [](HttpRequest& req, Reply reply) { reply(staff_page(req, *find_web_file("favicon.svg"))); }, Exec::inline_io);
  router.add(
      "GET", "/assets/{name}",
      [](HttpRequest& req, Reply reply) {
        const auto name = req.param("name");
        const auto* file = name.ends_with(".html") ? nullptr : find_web_file(name);
        if (!file) throw not_found("There is no asset " + std::string(name) + ".");
        reply(staff_page(req, *file));
      },
      Exec::inline_io);

  router.add(
      "GET", "/",
      [](HttpRequest&, Reply reply) {
        std::string b =
            "<section class=\"card\"><p>Theo dõi hồ sơ thủ tục hành chính và kết quả được bưu điện "
            "chuyển giữa bạn và bộ phận một cửa. <span class=\"en\">Follow your dossier and its result "
            "while the post carries them.</span></p>";
        b += search_form("");
        b += "</section>";
        reply(html_response(200, page("Dossier Post", b)));
      },
      Exec::inline_io);

  // The search box: the item number printed under the barcode (with or without spaces) or the dossier code,
  // and optionally the 6-digit code printed on the receipt, which opens the citizen's detailed view.
  router.add("GET", "/track", [&ctx](HttpRequest& req, Reply reply) {
    const auto query = req.query_param("q");
    if (!public_rate_ok(ctx, req, reply, query)) return;
    std::optional<PublicItemView> v;
    if (const auto id = ItemId::parse(query)) {
      v = ctx.storage.track_item(*id);
    } else if (auto dossier_code = upper_trimmed(query); is_valid_dossier_code(dossier_code)) {
      const auto dossier_id = ctx.storage.dossier_by_code(dossier_code);
      const auto dossier = dossier_id ? ctx.storage.find_dossier(*dossier_id) : std::nullopt;
      if (dossier && !dossier->items.empty()) {
        // The dossier's first item: the one whose receipt carries the code.
        if (auto first = ItemId::parse(dossier->items.front().item_id)) v = ctx.storage.track_item(*first);
      }
    } else {
      reply(html_response(query.empty() ? 200 : 422,
                          not_found_page(query,
                                         query.empty() ? "Nhập mã bưu gửi hoặc mã hồ sơ in trên phiếu."
                                                       : "Mã bưu gửi không đúng: hãy kiểm tra lại từng chữ số.",
                                         query.empty() ? "Enter the item number or dossier code on your receipt."
                                                       : "This is not a valid item number: check each digit.")));
      return;
    }
    const auto code = req.query_param("code");
    // A wrong code answers exactly as an unknown item: the page must not tell which of the two was wrong.
    if (v && !code.empty() && !ctx.accept_lookup_code(v->item_id, code)) v.reset();
    if (!v) {
      // With a code typed, either may be wrong: say so for both (the same words whichever it was).
      reply(html_response(
          404, code.empty() ? not_found_page(query, "Không tìm thấy bưu gửi này.", "No item with this number.")
                            : not_found_page(query, "Không tìm thấy: hãy kiểm tra mã bưu gửi và mã tra cứu 6 chữ số.",
                                             "Not found: check the item number and the 6-digit look-up code.")));
      return;
    }
    const auto legs = dossier_legs(ctx.storage, *v);
    if (code.empty()) {
      reply(html_response(200, item_page(legs, nullptr, CitizenActions{})));
      return;
    }
    const auto citizen = legs_details(ctx.storage, legs);
    reply(html_response(200, item_page(legs, &citizen, CitizenActions{})));
  });

  // The link in the QR code of the label and the receipt.
  router.add("GET", "/t/{token}", [&ctx](HttpRequest& req, Reply reply) {
    if (!public_rate_ok(ctx, req, reply, "")) return;
    const std::string token(req.param("token"));
    auto v = ctx.storage.track_token(token);
    if (!v) {
      // Same answer for a wrong token as for an unknown one.
      reply(html_response(404,
                          not_found_page("", "Không tìm thấy bưu gửi cho đường dẫn này.", "No item for this link.")));
      return;
    }
    const auto legs = dossier_legs(ctx.storage, *v);
    const auto citizen = legs_details(ctx.storage, legs);
    auto actions = actions_for(ctx.storage, legs, token);
    if (const auto done = req.query_param("done"); done == "rating" || done == "redelivery") actions.done = done;
    reply(html_response(200, item_page(legs, &citizen, actions)));
  });

  // The citizen's requests from the QR page, as plain HTML forms (no JavaScript): answered with a redirect back
  // to the page (303, Post/Redirect/Get), or the page with the reason when refused.
  for (const char* kind : {"redelivery", "rating"}) {
    router.add(
        "POST", std::string("/t/{token}/") + kind, [&ctx, kind = std::string(kind)](HttpRequest& req, Reply reply) {
          if (!public_rate_ok(ctx, req, reply, "")) return;
          const std::string token(req.param("token"));
          auto v = ctx.storage.track_token(token);
          if (!v) {
            reply(html_response(
                404, not_found_page("", "Không tìm thấy bưu gửi cho đường dẫn này.", "No item for this link.")));
            return;
          }
          const auto legs = dossier_legs(ctx.storage, *v);
          auto refused = [&ctx, legs, token, reply](const std::string& vi, const std::string& en, unsigned status) {
            const auto citizen = legs_details(ctx.storage, legs);
            auto actions = actions_for(ctx.storage, legs, token);
            actions.error_vi = vi;
            actions.error_en = en;
            reply(html_response(status, item_page(legs, &citizen, actions)));
          };
          const auto form = [&req](std::string_view name) { return form_field(req.body, name); };
          auto request =
              citizen_request_of(kind, legs, form("rating"), form("comment"), form("note"), form("preferred_date"));
          if (auto* error = std::get_if<RequestError>(&request)) {
            refused(error->vi, error->en, error->status);
            return;
          }
          ctx.storage.add_citizen_request(std::get<CitizenRequest>(std::move(request)), [reply, token, kind, refused](
                                                                                            Outcome<CitizenRequest> r) {
            if (r.has_error()) {
              try {
                std::rethrow_exception(r.error());
              } catch (const ApiError& e) {
                if (e.status() == 409) {
                  refused(kind == "rating" ? "Bạn đã đánh giá lần giao này." : "Yêu cầu này đã được gửi.",
                          kind == "rating" ? "You already rated this delivery." : "This was already asked for.", 409);
                  return;
                }
                refused("Không lưu được yêu cầu, vui lòng thử lại sau.", "Could not save the request: try again later.",
                        e.status());
                return;
              } catch (...) {
                refused("Không lưu được yêu cầu, vui lòng thử lại sau.", "Could not save the request: try again later.",
                        503);
                return;
              }
            }
            HttpResponse redirect = html_response(303, "");
            redirect.headers.emplace_back("Location", "/t/" + token + "?done=" + kind);
            reply(std::move(redirect));
          });
        });
  }

  // The same requests as JSON, for the one-stop system's apps: POST /api/v1/track/token/{token}/redelivery
  // {"preferred_date"?, "note"?} and /rating {"rating": 1..5, "comment"?} → 201.
  for (const char* kind : {"redelivery", "rating"}) {
    router.add("POST", std::string("/api/v1/track/token/{token}/") + kind,
               [&ctx, kind = std::string(kind)](HttpRequest& req, Reply reply) {
                 ctx.check_public_rate(req);
                 auto v = ctx.storage.track_token(req.param("token"));
                 if (!v) throw not_found("There is no item for this link.", "unknown_item");
                 const auto body = parse_json_body(req);
                 if (!body.is_object()) throw bad_request("The JSON body must be an object.", "malformed_request");
                 // "rating" is a whole number, the other fields text: anything else is refused, not dropped.
                 auto text = [&body](const char* name) -> std::string {
                   auto it = body.find(name);
                   if (it == body.end() || it->is_null()) return "";
                   const bool number = std::string_view(name) == "rating";
                   if (number && it->is_number_integer()) return std::to_string(it->get<long long>());
                   if (number || !it->is_string()) {
                     throw bad_request(std::string("The field \"") + name + "\" must be " +
                                           (number ? "a whole number from 1 to 5." : "a string."),
                                       "wrong_type");
                   }
                   return it->get<std::string>();
                 };
                 const auto legs = dossier_legs(ctx.storage, *v);
                 auto request = citizen_request_of(kind, legs, text("rating"), text("comment"), text("note"),
                                                   text("preferred_date"));
                 if (auto* error = std::get_if<RequestError>(&request)) {
                   throw ApiError(error->status, error->code, error->en);
                 }
                 ctx.storage.add_citizen_request(
                     std::get<CitizenRequest>(std::move(request)), [reply](Outcome<CitizenRequest> r) {
                       guarded(reply, [&] {
                         if (r.has_error()) std::rethrow_exception(r.error());
                         json j = {{"item_id", r->item_id}, {"kind", r->kind}, {"at", format_rfc3339(r->created_at)}};
                         j["rating"] = r->rating ? json(*r->rating) : json(nullptr);
                         j["preferred_date"] = r->preferred_date ? json(*r->preferred_date) : json(nullptr);
                         reply(json_response(201, j));
                       });
                     });
               });
  }
}

}  // namespace dpost::server
