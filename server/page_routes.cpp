#include "api.hpp"
#include "api_error.hpp"
#include "embedded_file.hpp"
#include "route_util.hpp"
#include "text.hpp"

#include <string>

namespace dpost::server {

std::span<const dpost::EmbeddedFile> web_files();  // generated from server/web/*

namespace {

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

// "23/11/2026 09:15" in Vietnam time (UTC+7, no daylight saving).
std::string format_local(UnixMillis t) {
  const auto iso = format_rfc3339(t + 7LL * 60 * 60 * 1000);  // 2026-11-23T02:15:00.000Z shifted
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4) + " " + iso.substr(11, 5);
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;color:#1a1a1a;background:#f5f6f8;line-height:1.45}
header{background:#0b4f9c;color:#fff;padding:14px 16px}header a{color:#fff;text-decoration:none}
h1{font-size:1.15rem;margin:0}main{max-width:640px;margin:0 auto;padding:16px}
.en{color:#555;font-size:.85em}.card{background:#fff;border-radius:8px;padding:16px;margin-bottom:16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.state{font-size:1.25rem;font-weight:700;color:#0b4f9c}.id{font-family:ui-monospace,"DejaVu Sans Mono",monospace;letter-spacing:.05em}
ol{list-style:none;padding:0;margin:0}li{border-left:3px solid #0b4f9c;padding:0 0 14px 14px;position:relative}
li:before{content:"";position:absolute;left:-7px;top:4px;width:11px;height:11px;border-radius:50%;background:#0b4f9c}
li:last-child{border-left-color:transparent}time{color:#444;font-size:.9em}
form{display:flex;gap:8px;flex-wrap:wrap}label{width:100%}input{flex:1;min-width:0;font-size:1.05rem;padding:10px;border:1px solid #888;border-radius:6px}
button{font-size:1.05rem;padding:10px 16px;border:0;border-radius:6px;background:#0b4f9c;color:#fff}
.muted{color:#555}footer{max-width:640px;margin:0 auto;padding:0 16px 24px;color:#555;font-size:.85em}
)";

std::string page(std::string_view title, std::string_view body) {
  std::string html;
  html.reserve(4096 + body.size());
  html += "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">";
  html += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  html += "<title>";
  html += escape_html(title);
  html += "</title><style>";
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
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string search_form(std::string_view value) {
  std::string out =
      "<form method=\"get\" action=\"/track\"><label for=\"q\">Mã bưu gửi trên phiếu "
      "<span class=\"en\">Item number on your receipt</span></label>";
  out +=
      "<input id=\"q\" name=\"q\" autocomplete=\"off\" inputmode=\"text\" placeholder=\"EH 000 000 014 VN\" value=\"";
  out += escape_html(value);
  out += "\" required><button type=\"submit\">Tra cứu <span class=\"en\">Track</span></button></form>";
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

std::string item_page(const PublicItemView& v, const CitizenDetails* citizen) {
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
  b += "</span></p><p>Thủ tục <span class=\"en\">Procedure</span>: ";
  b += escape_html(v.procedure_name);
  if (!v.destination_name.empty()) {
    b += "<br>Nơi nhận <span class=\"en\">To</span>: ";
    b += escape_html(v.destination_name);
  }
  if (citizen) {
    b += "<br>Người nộp <span class=\"en\">Applicant</span>: ";
    b += escape_html(citizen->applicant);
    if (citizen->due_date) {
      b += "<br>Ngày hẹn trả kết quả <span class=\"en\">Result due</span>: ";
      const auto& d = *citizen->due_date;  // YYYY-MM-DD
      b += escape_html(d.size() == 10 ? d.substr(8, 2) + "/" + d.substr(5, 2) + "/" + d.substr(0, 4) : d);
    }
  }
  b += "</p></section><section class=\"card\"><h2>Hành trình <span class=\"en\">Journey</span></h2>";
  if (v.events.empty()) {
    b += "<p class=\"muted\">Bưu điện chưa nhận bưu gửi này. <span class=\"en\">Not yet handed to the post.</span></p>";
  } else {
    b += "<ol>";
    // Newest first: what the citizen wants to know is where it is now.
    for (auto it = v.events.rbegin(); it != v.events.rend(); ++it) {
      b += "<li><strong>";
      b += escape_html(describe_vi(it->code));
      b += "</strong> <span class=\"en\">";
      b += escape_html(describe_en(it->code));
      b += "</span><br><time datetime=\"";
      b += format_rfc3339(it->occurred_at);
      b += "\">";
      b += format_local(it->occurred_at);
      b += "</time> · ";
      b += escape_html(it->site_name);
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
  return "application/octet-stream";
}

// Staff pages: scripts and styles come only from this server; PDFs open from blob: URLs.
HttpResponse staff_page(const EmbeddedFile& file) {
  HttpResponse r;
  r.content_type = std::string(content_type_for(file.name));
  r.body = std::string(file.text);
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; "
                         "frame-ancestors 'none'");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace

void add_page_routes(Router& router, RouteContext& ctx) {
  // The one-stop office desk (USB barcode scanner input); static, the data comes from the API.
  router.add(
      "GET", "/desk", [](HttpRequest&, Reply reply) { reply(staff_page(*find_web_file("desk.html"))); },
      Exec::inline_io);
  // The post office clerk's page (phone or laptop): the scan flow with the event chooser, label printing.
  router.add(
      "GET", "/clerk", [](HttpRequest&, Reply reply) { reply(staff_page(*find_web_file("clerk.html"))); },
      Exec::inline_io);
  // The supervisor's page: counts by state, what waits too long, on-time rates, CSV export.
  router.add(
      "GET", "/supervisor", [](HttpRequest&, Reply reply) { reply(staff_page(*find_web_file("supervisor.html"))); },
      Exec::inline_io);
  router.add(
      "GET", "/assets/{name}",
      [](HttpRequest& req, Reply reply) {
        const auto name = req.param("name");
        const auto* file = name.ends_with(".html") ? nullptr : find_web_file(name);
        if (!file) throw not_found("There is no asset " + std::string(name) + ".");
        reply(staff_page(*file));
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

  // The search box: the item number printed under the barcode, with or without spaces.
  router.add("GET", "/track", [&ctx](HttpRequest& req, Reply reply) {
    const auto query = req.query_param("q");
    try {
      ctx.check_public_rate(req);
    } catch (const ApiError& e) {
      auto r =
          html_response(e.status(), not_found_page(query, "Bạn tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút.",
                                                   "Too many look-ups: please try again in a few minutes."));
      for (const auto& h : e.headers) r.headers.push_back(h);
      reply(std::move(r));
      return;
    }
    const auto id = ItemId::parse(query);
    if (!id) {
      reply(html_response(query.empty() ? 200 : 422,
                          not_found_page(query,
                                         query.empty() ? "Nhập mã bưu gửi in trên phiếu."
                                                       : "Mã bưu gửi không đúng: hãy kiểm tra lại từng chữ số.",
                                         query.empty() ? "Enter the item number printed on your receipt."
                                                       : "This is not a valid item number: check each digit.")));
      return;
    }
    auto v = ctx.storage.track_item(*id);
    if (!v) {
      reply(html_response(404, not_found_page(query, "Không tìm thấy bưu gửi này.", "No item with this number.")));
      return;
    }
    reply(html_response(200, item_page(*v, nullptr)));
  });

  // The link in the QR code of the label and the receipt.
  router.add("GET", "/t/{token}", [&ctx](HttpRequest& req, Reply reply) {
    try {
      ctx.check_public_rate(req);
    } catch (const ApiError& e) {
      auto r = html_response(e.status(), not_found_page("", "Bạn tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút.",
                                                        "Too many look-ups: please try again in a few minutes."));
      for (const auto& h : e.headers) r.headers.push_back(h);
      reply(std::move(r));
      return;
    }
    auto v = ctx.storage.track_token(req.param("token"));
    if (!v) {
      // Same answer for a wrong token as for an unknown one.
      reply(html_response(404,
                          not_found_page("", "Không tìm thấy bưu gửi cho đường dẫn này.", "No item for this link.")));
      return;
    }
    const auto citizen = citizen_details(ctx.storage, v->item_id);
    reply(html_response(200, item_page(*v, &citizen)));
  });
}

}  // namespace dpost::server
