// Labels and receipts over the real HTTP API: formats and headers, the symbols decode to the item id and its
// tracking link, what the envelope must not show, who may print, and the 4xx answers for bad input.
#include "itest_common.hpp"
#include "pdf_text.hpp"

#include "item_id.hpp"
#include "raster.hpp"
#include "text.hpp"

#include <ZXing/ImageView.h>
#include <ZXing/ReadBarcode.h>
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

namespace {

std::string label_path(const std::string& item_id, const std::string& query = "") {
  return "/api/v1/items/" + item_id + "/label" + query;
}

HttpResult get_as(ApiSession& session, const std::string& user, const std::string& target) {
  return session.client.get(target, session.token(user));
}

struct Symbols {
  std::vector<std::string> code128;
  std::vector<std::string> qr;
};

Symbols decode_png(const std::string& png) {
  Symbols out;
  const auto image = dpost::decode_png_gray(png);
  if (!image) return out;
  const auto hints = ZXing::DecodeHints()
                         .setFormats(ZXing::BarcodeFormat::Code128 | ZXing::BarcodeFormat::QRCode)
                         .setTryDownscale(false);
  for (const auto& r : ZXing::ReadBarcodes(
           ZXing::ImageView(image->pixels.data(), image->width, image->height, ZXing::ImageFormat::Lum), hints)) {
    if (r.isValid()) (r.format() == ZXing::BarcodeFormat::Code128 ? out.code128 : out.qr).push_back(r.text());
  }
  return out;
}

}  // namespace

TEST_CASE("labels: every format with its content type and file name") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  const auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  const struct {
    std::string query;
    std::string content_type;
    std::string extension;
    std::string magic;
  } cases[] = {{"", "image/png", "png", "\x89PNG"},
               {"?format=png&dpi=300", "image/png", "png", "\x89PNG"},
               {"?format=svg", "image/svg+xml", "svg", "<?xml"},
               {"?format=pdf", "application/pdf", "pdf", "%PDF-"},
               {"?format=zpl", "text/plain; charset=utf-8", "zpl", "^XA"},
               {"?format=zpl&dpi=300", "text/plain; charset=utf-8", "zpl", "^XA"}};
  for (const auto& c : cases) {
    CAPTURE(c.query);
    const auto answer = get_as(session, "clerk1", label_path(item_id, c.query));
    INFO(describe(answer));
    REQUIRE(answer.status == 200);
    CHECK(answer.header("content-type") == c.content_type);
    CHECK(answer.header("content-disposition") == "inline; filename=\"" + item_id + "." + c.extension + "\"");
    CHECK(answer.header("cache-control") == "no-store");
    CHECK(answer.body.rfind(c.magic, 0) == 0);
  }
}

TEST_CASE("labels: the PNG decodes to the item id and the item's tracking link, at 203 and 300 dpi") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  const auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  const auto view = session.item("clerk1", item_id).json();
  const auto url = view["tracking_url"].get<std::string>();
  CHECK(url.ends_with("/t/" + view["tracking_token"].get<std::string>()));
  for (const char* dpi : {"203", "300"}) {
    CAPTURE(dpi);
    const auto answer = get_as(session, "clerk1", label_path(item_id, std::string("?format=png&dpi=") + dpi));
    REQUIRE(answer.status == 200);
    const auto symbols = decode_png(answer.body);
    CHECK(symbols.code128 == std::vector<std::string>{item_id});
    CHECK(symbols.qr == std::vector<std::string>{url});
  }
}

TEST_CASE("labels: only what delivery needs is on the envelope") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  const auto applicant = unique_applicant();
  const auto item_id = create_dossier_item(session, "clerk1", applicant);
  const auto zpl = get_as(session, "clerk1", label_path(item_id, "?format=zpl"));
  REQUIRE(zpl.status == 200);
  CHECK(contains(zpl.body, "^CI28"));
  CHECK(contains(zpl.body, applicant.name));  // UTF-8 in ^FD
  CHECK_FALSE(contains(zpl.body, applicant.id_number));
  CHECK_FALSE(contains(zpl.body, applicant.phone));
  // A dossier's sender block shows the ward/district, not the house and street.
  CHECK(contains(zpl.body, "Ba Đình, Hà Nội"));
  CHECK_FALSE(contains(zpl.body, "Kiểm Thử"));

  // The result goes to the citizen: full address, masked phone, still no ID number.
  const auto dossier_id = session.item("clerk1", item_id).json()["dossier"]["id"].get<std::int64_t>();
  const auto result =
      session.client.post("/api/v1/dossiers/" + std::to_string(dossier_id) + "/result", "{}", session.token("staff1"));
  INFO(describe(result));
  REQUIRE(result.status == 201);
  const auto result_id = result.json()["item_id"].get<std::string>();
  const auto result_zpl = get_as(session, "staff1", label_path(result_id, "?format=zpl"));
  REQUIRE(result_zpl.status == 200);
  CHECK(contains(result_zpl.body, "KẾT QUẢ"));
  CHECK(contains(result_zpl.body, "Kiểm Thử"));
  CHECK(contains(result_zpl.body, "*******" + applicant.phone.substr(applicant.phone.size() - 3)));
  CHECK_FALSE(contains(result_zpl.body, applicant.phone));
  CHECK_FALSE(contains(result_zpl.body, applicant.id_number));
}

TEST_CASE("labels: who may print") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  const auto item_id = create_dossier_item(session, "clerk1", unique_applicant(), kOffice1);
  // The post offices on its route and its office print it; other sites, supervisors (who read) and admins
  // (who manage accounts) do not.
  for (const char* user : {"clerk1", "staff1"}) {
    CAPTURE(user);
    CHECK(get_as(session, user, label_path(item_id, "?format=zpl")).status == 200);
  }
  for (const char* user : {"clerk2", "staff2", "supervisor1", "admin"}) {
    CAPTURE(user);
    check_error(get_as(session, user, label_path(item_id, "?format=zpl")), 403);
  }
  check_error(session.client.get(label_path(item_id)), 401);
  check_error(session.client.post("/api/v1/labels/sheet", json{{"items", {item_id}}}, session.token("staff2")), 403);
}

TEST_CASE("labels: bad input gets a clear 4xx") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  const auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  check_error(get_as(session, "clerk1", label_path(item_id, "?format=jpg")), 422, "unsupported_format");
  check_error(get_as(session, "clerk1", label_path(item_id, "?dpi=600")), 422, "unsupported_dpi");
  check_error(get_as(session, "clerk1", label_path(item_id, "?dpi=203x")), 422, "unsupported_dpi");
  check_error(get_as(session, "clerk1", label_path(unknown_item_id())), 404, "unknown_item");
  check_error(get_as(session, "clerk1", label_path(with_bad_check_digit(item_id))), 422, "bad_check_digit");
}

TEST_CASE("labels: an A4 sheet for a batch") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create_dossier_item(session, "clerk1", unique_applicant()));
  const auto sheet = session.client.post("/api/v1/labels/sheet", json{{"items", ids}}, session.token("clerk1"));
  INFO(describe(sheet));
  REQUIRE(sheet.status == 200);
  CHECK(sheet.header("content-type") == "application/pdf");
  CHECK(sheet.body.rfind("%PDF-", 0) == 0);
  const auto text = pdf_to_text(sheet.body);
  REQUIRE_FALSE(text.empty());  // pdftotext (poppler-utils) comes with scripts/setup
  for (const auto& id : ids) CHECK(contains(text, dpost::ItemId::parse(id)->grouped()));

  std::vector<std::string> too_many(101, ids[0]);
  check_error(session.client.post("/api/v1/labels/sheet", json{{"items", too_many}}, session.token("clerk1")), 413,
              "batch_too_large");
  const auto unknown = unknown_item_id();
  const auto missing =
      session.client.post("/api/v1/labels/sheet", json{{"items", {ids[0], unknown}}}, session.token("clerk1"));
  check_error(missing, 404, "unknown_item");
  CHECK(contains(missing.body, unknown));
  check_error(session.client.post("/api/v1/labels/sheet", json{{"items", json::array()}}, session.token("clerk1")),
              422);
  check_error(session.client.post("/api/v1/labels/sheet", json{{"items", {with_bad_check_digit(ids[0])}}},
                                  session.token("clerk1")),
              422, "bad_check_digit");
  check_error(session.client.post("/api/v1/labels/sheet", std::string("not json"), session.token("clerk1")), 400);
  check_error(session.client.post("/api/v1/labels/sheet", json{{"item", ids}}, session.token("clerk1")), 400);
}

TEST_CASE("labels: the pickup receipt") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  auto applicant = unique_applicant();
  auto body = dossier_body(applicant);
  body["documents"] = json::array({{{"name", "Tờ khai đăng ký"}, {"kind", "original"}, {"count", 1}},
                                   {{"name", "Căn cước công dân"}, {"kind", "certified_copy"}, {"count", 2}}});
  body["fee_vnd"] = 50000;
  const auto created = session.create_dossier("clerk1", body);
  INFO(describe(created));
  REQUIRE(created.status == 201);
  const auto dossier_id = created.json()["id"].get<std::int64_t>();
  const auto receipt = get_as(session, "clerk1", "/api/v1/dossiers/" + std::to_string(dossier_id) + "/receipt");
  INFO(describe(receipt));
  REQUIRE(receipt.status == 200);
  CHECK(receipt.header("content-type") == "application/pdf");
  CHECK(receipt.header("content-disposition") == "inline; filename=\"receipt-" + std::to_string(dossier_id) + ".pdf\"");
  const auto text = pdf_to_text(receipt.body);
  for (const std::string& expected : {std::string("PHIẾU GỬI HỒ SƠ"), applicant.name, std::string("Tờ khai đăng ký"),
                                      std::string("Bản sao chứng thực"), std::string("50.000 ₫")}) {
    CAPTURE(expected);
    CHECK(contains(text, expected));
  }
  CHECK_FALSE(contains(text, applicant.id_number));
  CHECK_FALSE(contains(text, applicant.phone));

  check_error(get_as(session, "staff2", "/api/v1/dossiers/" + std::to_string(dossier_id) + "/receipt"), 403);
  check_error(get_as(session, "clerk1", "/api/v1/dossiers/999999999/receipt"), 404);
  const auto receive_only = session.create_dossier("staff1", dossier_body(unique_applicant(), kOffice1, "receive"));
  REQUIRE(receive_only.status == 201);
  check_error(get_as(session, "staff1",
                     "/api/v1/dossiers/" + std::to_string(receive_only.json()["id"].get<std::int64_t>()) + "/receipt"),
              409, "no_dossier_item");
}

TEST_CASE("labels: the command line renders the same documents") {
  TestServer server({"--demo"});
  ApiSession session(server);
  const auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  const auto out = (server.dir() / "label.png").string();
  const auto log = (server.dir() / "tool.log").string();
  CHECK(run_server_tool({"label", "--db", server.db_path(), "--item", item_id, "--out", out, "--public-base-url",
                         "https://tracuu.example.vn"},
                        log) == 0);
  std::ifstream in(out, std::ios::binary);
  std::ostringstream png;
  png << in.rdbuf();
  const auto symbols = decode_png(png.str());
  CHECK(symbols.code128 == std::vector<std::string>{item_id});
  REQUIRE(symbols.qr.size() == 1);
  CHECK(symbols.qr[0].starts_with("https://tracuu.example.vn/t/"));
  CHECK(run_server_tool({"label", "--db", server.db_path(), "--item", unknown_item_id(), "--out", out}, log) != 0);
  CHECK(run_server_tool({"label", "--db", server.db_path(), "--item", item_id, "--dpi", "600", "--out", out}, log) !=
        0);
  CHECK(run_server_tool({"label", "--db", server.db_path(), "--item", item_id, "--format", "gif", "--out", out}, log) !=
        0);
  const auto dossier_id = session.item("clerk1", item_id).json()["dossier"]["id"].get<std::int64_t>();
  const auto pdf = (server.dir() / "receipt.pdf").string();
  CHECK(run_server_tool({"receipt", "--db", server.db_path(), "--dossier", std::to_string(dossier_id), "--out", pdf},
                        log) == 0);
  CHECK(std::filesystem::file_size(pdf) > 1000);
  CHECK(run_server_tool({"receipt", "--db", server.db_path(), "--dossier", "999999", "--out", pdf}, log) != 0);
}

TEST_CASE("labels: the QR on the label opens the citizen's page for that item") {
  ApiSession session(shared_demo_server());
  const auto applicant = unique_applicant();
  const auto item_id = create_dossier_item(session, "clerk1", applicant);
  auto png = get_as(session, "clerk1", "/api/v1/items/" + item_id + "/label?format=png");
  REQUIRE(png.status == 200);
  const auto symbols = decode_png(png.body);
  REQUIRE(symbols.qr.size() == 1);
  // The QR holds {base}/t/{token}: follow it as a phone would.
  const auto& url = symbols.qr[0];
  const auto path = url.substr(url.find("/t/"));
  auto page = session.client.get(path);
  INFO(describe(page));
  REQUIRE(page.status == 200);
  CHECK(contains(page.body, dpost::ItemId::parse(item_id)->grouped()));
  CHECK(contains(page.body, dpost::mask_name(applicant.name)));
  for (const auto& personal : applicant.personal_strings()) CHECK_FALSE(contains(page.body, personal));
}
