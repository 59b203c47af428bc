#include "demo_data.hpp"

#include "auth.hpp"

#include <map>
#include <random>

namespace dpost::server {
namespace {

std::string demo_uuid(std::mt19937_64& rng) {
  // Demo events get ordinary random v4 UUIDs, like a device would send.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (auto& c : s) {
    if (c == 'x') c = kHex[rng() % 16];
    if (c == 'y') c = kHex[8 + rng() % 4];
  }
  return s;
}

struct Step {
  const char* user;
  EventCode code;
  const char* site;
  int minutes;  // after the dossier was registered
  const char* reason = nullptr;
};

}  // namespace

std::vector<std::string> load_demo_data(Storage& storage) {
  if (!storage.list_sites().empty()) return {};

  const std::vector<Site> sites = {
      {"BC-HN01", SiteKind::post_office, "Bưu cục Ba Đình", "", "Số 1 Đội Cấn, Ba Đình, Hà Nội", "", "01", Area::urban},
      {"BC-HN02", SiteKind::post_office, "Bưu cục Cầu Giấy", "", "Số 2 Trần Đăng Ninh, Cầu Giấy, Hà Nội", "", "01", Area::urban},
      // Each office's mail goes through the post office of its district.
      {"MC-HN-BD", SiteKind::office, "Bộ phận một cửa quận Ba Đình", "000.00.01.H26",
       "Số 25 Liễu Giai, Ba Đình, Hà Nội", "BC-HN01", "01", Area::urban},
      {"MC-HN-CG", SiteKind::office, "Bộ phận một cửa quận Cầu Giấy", "000.00.02.H26",
       "Số 36 Cầu Giấy, Cầu Giấy, Hà Nội", "BC-HN02", "01", Area::urban},
  };
  for (const auto& s : sites) {
    await_write<Site>([&](auto done) { storage.create_site(s, std::move(done)); });
  }

  struct DemoUser {
    const char* username;
    Role role;
    const char* site;
    const char* full_name;
  };
  const DemoUser users[] = {
      {"admin", Role::admin, "", "Quản trị hệ thống"},
      {"clerk1", Role::clerk, "BC-HN01", "Trần Thị Bích"},
      {"clerk2", Role::clerk, "BC-HN02", "Lê Văn Cường"},
      {"staff1", Role::office_staff, "MC-HN-BD", "Phạm Thu Dung"},
      {"staff2", Role::office_staff, "MC-HN-CG", "Hoàng Minh Đức"},
      {"supervisor1", Role::supervisor, "MC-HN-BD", "Vũ Thị Hạnh"},
  };
  // One hash for all: the demo password is the same, and Argon2id is slow on purpose.
  const std::string demo_hash = hash_password("demo");
  std::map<std::string, Actor> actors;
  for (const auto& u : users) {
    User user;
    user.username = u.username;
    user.role = u.role;
    user.site = u.site;
    user.full_name = u.full_name;
    auto created = await_write<User>([&](auto done) { storage.create_user(user, demo_hash, std::move(done)); });
    actors[u.username] = Actor{created.id, created.username, created.role, created.site, std::nullopt, {}, "demo"};
  }
  // supervisor1 watches the Ba Đình district: its one-stop office and its post office.
  await_write<User>([&](auto done) {
    storage.set_user_scope("supervisor1", {"MC-HN-BD", "BC-HN01"}, std::move(done));
  });

  std::mt19937_64 rng(20261123);
  constexpr UnixMillis kDemoDay = 24LL * 60 * 60 * 1000;
  const UnixMillis start = now_millis() - 3 * kDemoDay;
  std::vector<std::string> lines;

  auto register_dossier = [&](const char* clerk, NewDossierRequest request) {
    return await_write<DossierCreated>(
        [&](auto done) { storage.create_dossier(actors.at(clerk), std::move(request), std::move(done)); });
  };
  auto play = [&](const std::string& item_id, UnixMillis t0, const std::vector<Step>& steps) {
    for (const auto& s : steps) {
      ScanRequest scan{
          demo_uuid(rng), *ItemId::parse(item_id),   s.code,
          s.site,         t0 + s.minutes * 60'000LL, s.reason ? std::optional<std::string>(s.reason) : std::nullopt,
          std::nullopt,   std::string("demo")};
      if (s.code == EventCode::EMI && item_id.starts_with("EK")) {
        scan.recipient = Recipient{"Nguyễn Văn An", true, std::nullopt,
                                   IdDocument{IdDocumentType::cccd, mask_id_number("001090000001")}};
      }
      if (s.code == EventCode::EMH) {
        scan.reason_code = FailureReason::absent;
        scan.action = FailureAction::redeliver;
      }
      auto out = await_write<std::vector<ScanOutcome>>(
          [&](auto done) { storage.record_scans(actors.at(s.user), {scan}, std::nullopt, std::move(done)); });
      if (out.at(0).status != ScanStatus::recorded) {
        throw std::runtime_error("demo data: " + out.at(0).message);
      }
    }
  };

  // 1. A dossier from Cầu Giấy on its way to the Ba Đình one-stop office.
  {
    auto d = register_dossier(
        "clerk2", {"1.005129",
                   "Cấp phiếu lý lịch tư pháp cho công dân Việt Nam",
                   {"Nguyễn Văn An", "0912345678", "Số 10 ngõ 5 Trần Duy Hưng, Cầu Giấy, Hà Nội", "001090000001"},
                   "MC-HN-BD",
                   ServiceOption::both,
                   "000.00.01.H26-261120-0001",
                   std::nullopt,
                   {{"Tờ khai yêu cầu cấp phiếu lý lịch tư pháp", CopyKind::original, 1},
                    {"Căn cước công dân", CopyKind::certified_copy, 1}},
                   200'000,
                   std::string("Lý lịch tư pháp")});
    const auto& id = d.items.at(0).item_id;
    play(id, start,
         {{"clerk2", EventCode::EMA, "BC-HN02", 0},
          {"clerk2", EventCode::EDD, "BC-HN02", 90},
          {"clerk2", EventCode::EDE, "BC-HN02", 150}});
    lines.push_back(id + "  hồ sơ đang vận chuyển / dossier in transit");
  }
  // 2. A dossier received by the office, its result already on the way back.
  {
    auto d = register_dossier(
        "clerk2", {"2.000635",
                   "Chứng thực bản sao từ bản chính",
                   {"Trần Thị Mai", "0987654321", "Số 3 Nguyễn Khánh Toàn, Cầu Giấy, Hà Nội", "001185000002"},
                   "MC-HN-BD",
                   ServiceOption::both,
                   std::nullopt,
                   format_date_vn(start - kDemoDay),  // already past: the supervisor page flags it
                   {{"Bản chính giấy tờ cần chứng thực", CopyKind::original, 3}},
                   std::nullopt,
                   std::string("Chứng thực")});
    const auto& id = d.items.at(0).item_id;
    play(id, start + 60'000,
         {{"clerk2", EventCode::EMA, "BC-HN02", 0},
          {"clerk2", EventCode::EDD, "BC-HN02", 60},
          {"clerk2", EventCode::EDE, "BC-HN02", 120},
          {"clerk1", EventCode::EMG, "BC-HN01", 300},
          {"clerk1", EventCode::EDG, "BC-HN01", 360},
          {"clerk1", EventCode::EMI, "BC-HN01", 420},
          {"staff1", EventCode::RCV, "MC-HN-BD", 430}});
    auto result = await_write<ItemSummary>(
        [&](auto done) { storage.create_result(actors.at("staff1"), d.id, std::nullopt, std::move(done)); });
    play(result.item_id, start + 2LL * 24 * 60 * 60 * 1000,
         {{"staff1", EventCode::RES, "MC-HN-BD", 0},
          {"clerk1", EventCode::EMA, "BC-HN01", 5},
          {"clerk1", EventCode::EDD, "BC-HN01", 60}});
    lines.push_back(id + "  hồ sơ đã đến cơ quan / dossier received by the office");
    lines.push_back(result.item_id + "  kết quả đang chuyển về công dân / result on its way home");
  }
  // 3. A dossier just picked up at a citizen's door in Ba Đình, addressed to Cầu Giấy.
  {
    auto d = register_dossier(
        "clerk1", {"1.001612",
                   "Đăng ký khai sinh",
                   {"Lê Hoàng Nam", "0901234567", "Số 8 Kim Mã, Ba Đình, Hà Nội", "001200000003"},
                   "MC-HN-CG",
                   ServiceOption::send,
                   std::nullopt,
                   std::nullopt,
                   {{"Tờ khai đăng ký khai sinh", CopyKind::original, 1}, {"Giấy chứng sinh", CopyKind::original, 1}},
                   0,
                   std::string("Hộ tịch")});
    const auto& id = d.items.at(0).item_id;
    play(id, now_millis() - 2LL * 60 * 60 * 1000, {{"clerk1", EventCode::EMA, "BC-HN01", 0}});
    lines.push_back(id + "  vừa nhận tại nhà công dân / just picked up");
  }
  // 4. A delivered result after one failed attempt.
  {
    auto d = register_dossier("clerk2",
                              {"1.004227",
                               "Cấp lại giấy phép lái xe",
                               {"Phạm Quốc Bảo", "0934567890", "Số 12 Xuân Thủy, Cầu Giấy, Hà Nội", "001080000004"},
                               "MC-HN-BD",
                               ServiceOption::receive,
                               std::nullopt,
                               format_date_vn(start + kDemoDay),
                               {},
                               std::nullopt,
                               std::string("Đường bộ")});
    auto result = await_write<ItemSummary>(
        [&](auto done) { storage.create_result(actors.at("staff1"), d.id, std::nullopt, std::move(done)); });
    play(result.item_id, start,
         {{"staff1", EventCode::RES, "MC-HN-BD", 0},
          {"clerk1", EventCode::EMA, "BC-HN01", 10},
          {"clerk1", EventCode::EDD, "BC-HN01", 60},
          {"clerk1", EventCode::EDE, "BC-HN01", 120},
          {"clerk2", EventCode::EMG, "BC-HN02", 240},
          {"clerk2", EventCode::EDG, "BC-HN02", 300},
          {"clerk2", EventCode::EMH, "BC-HN02", 360, "Người nhận vắng nhà; đã để lại giấy mời / recipient absent"},
          {"clerk2", EventCode::EDG, "BC-HN02", 1500},
          {"clerk2", EventCode::EMI, "BC-HN02", 1560}});
    lines.push_back(result.item_id + "  kết quả đã phát / result delivered");
  }
  // 5. A dossier handed over at the Ba Đình office's counter this morning and not yet confirmed (RCV): the
  // desk's "awaited" list and the supervisor's overdue confirmations show it.
  {
    auto d = register_dossier("clerk1", {"1.000894",
                                         "Cấp bản sao trích lục hộ tịch",
                                         {"Đỗ Thị Lan", "0977111222", "Số 5 Giang Văn Minh, Ba Đình, Hà Nội", "001190000005"},
                                         "MC-HN-BD",
                                         ServiceOption::both,
                                         std::nullopt,
                                         format_date_vn(now_millis() + 7 * kDemoDay),
                                         {{"Tờ khai đề nghị cấp bản sao trích lục", CopyKind::original, 1}},
                                         std::nullopt,
                                         std::string("Hộ tịch")});
    const auto& id = d.items.at(0).item_id;
    play(id, now_millis() - 6LL * 60 * 60 * 1000,
         {{"clerk1", EventCode::EMA, "BC-HN01", 0},
          {"clerk1", EventCode::EMG, "BC-HN01", 30},
          {"clerk1", EventCode::EDG, "BC-HN01", 60},
          {"clerk1", EventCode::EMI, "BC-HN01", 90}});
    lines.push_back(id + "  đã giao đến quầy, chờ cơ quan xác nhận / delivered, awaiting the office's confirmation");
  }
  return lines;
}

}  // namespace dpost::server
