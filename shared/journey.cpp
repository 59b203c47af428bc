#include "journey.hpp"

#include <algorithm>

namespace dpost {

namespace {

using K = ItemKind;
using S = ItemState;
using E = EventCode;

// The postal leg every kind shares, from acceptance to the end of the second delivery attempt (design.md
// section 4): sorting hops, a mis-sorted item sent back from the delivery office, attempts, and a return to
// sender after a refusal or two failures. check_delivery_rules() (delivery_rules.hpp) narrows the RTS and the
// extra EDG rows by the failed attempts' reasons and dates. Delivery (EMI) and what follows differ per kind.
constexpr std::size_t kPostalRowCount = 15;
constexpr std::array<Transition, kPostalRowCount> postal_rows(K k) {
  return {{
      {k, S::accepted, E::EDD, S::at_sorting},
      {k, S::accepted, E::EMG, S::at_delivery_office},
      {k, S::at_sorting, E::EDE, S::left_sorting},
      {k, S::left_sorting, E::EDD, S::at_sorting},
      {k, S::left_sorting, E::EMG, S::at_delivery_office},
      {k, S::at_delivery_office, E::EDD, S::at_sorting},  // mis-sorted: back to sorting
      {k, S::at_delivery_office, E::EDG, S::out_for_delivery},
      {k, S::out_for_delivery, E::EMI, S::delivered},
      {k, S::out_for_delivery, E::EMH, S::attempt_failed},
      {k, S::attempt_failed, E::EDG, S::out_for_redelivery},
      {k, S::attempt_failed, E::RTS, S::returning},  // refused: no second attempt
      {k, S::out_for_redelivery, E::EMI, S::delivered},
      {k, S::out_for_redelivery, E::EMH, S::attempts_exhausted},
      {k, S::attempts_exhausted, E::RTS, S::returning},
      // One more attempt when the failed ones were too close together for a return (delivery_rules.hpp).
      {k, S::attempts_exhausted, E::EDG, S::out_for_redelivery},
  }};
}

// Rows specific to each kind: how it starts, what follows delivery, how a return ends.
constexpr std::array<Transition, 7> kDossierRows{{
    {K::dossier, S::created, E::EMA, S::accepted},
    {K::dossier, S::delivered, E::RCV, S::received},  // the office confirms receipt
    {K::dossier, S::returning, E::EDD, S::returning},
    {K::dossier, S::returning, E::EDE, S::returning},
    {K::dossier, S::returning, E::EMG, S::returning},
    {K::dossier, S::returning, E::EDG, S::returning},
    {K::dossier, S::returning, E::EMI, S::returned},  // back in the citizen's hands
}};
constexpr std::array<Transition, 7> kResultRows{{
    {K::result, S::created, E::RES, S::handed_to_post},
    {K::result, S::handed_to_post, E::EMA, S::accepted},
    {K::result, S::returning, E::EDD, S::returning},
    {K::result, S::returning, E::EDE, S::returning},
    {K::result, S::returning, E::EMG, S::returning},
    {K::result, S::returning, E::EDG, S::returning},
    {K::result, S::returning, E::RCV, S::returned},  // the office confirms it got the result back
}};
constexpr std::array<Transition, 6> kReturnRows{{
    {K::return_item, S::created, E::EMA, S::accepted},
    {K::return_item, S::returning, E::EDD, S::returning},
    {K::return_item, S::returning, E::EDE, S::returning},
    {K::return_item, S::returning, E::EMG, S::returning},
    {K::return_item, S::returning, E::EDG, S::returning},
    {K::return_item, S::returning, E::EMI, S::returned},
}};

template <std::size_t... N>
constexpr auto concat(const std::array<Transition, N>&... parts) {
  std::array<Transition, (N + ...)> out{};
  std::size_t i = 0;
  ((std::copy(parts.begin(), parts.end(), out.begin() + static_cast<std::ptrdiff_t>(i)), i += N), ...);
  return out;
}

// The one table: everything not listed here is forbidden.
constexpr auto kTransitions = concat(kDossierRows, postal_rows(K::dossier), kResultRows, postal_rows(K::result),
                                     kReturnRows, postal_rows(K::return_item));

}  // namespace

std::string_view to_string(EventCode code) {
  switch (code) {
    case E::EMA:
      return "EMA";
    case E::EDD:
      return "EDD";
    case E::EDE:
      return "EDE";
    case E::EMG:
      return "EMG";
    case E::EDG:
      return "EDG";
    case E::EMH:
      return "EMH";
    case E::EMI:
      return "EMI";
    case E::RCV:
      return "RCV";
    case E::RES:
      return "RES";
    case E::RTS:
      return "RTS";
  }
  return "?";
}

std::string_view to_string(ItemKind kind) {
  switch (kind) {
    case K::dossier:
      return "dossier";
    case K::result:
      return "result";
    case K::return_item:
      return "return";
  }
  return "?";
}

std::string_view to_string(ItemState state) {
  switch (state) {
    case S::created:
      return "created";
    case S::handed_to_post:
      return "handed_to_post";
    case S::accepted:
      return "accepted";
    case S::at_sorting:
      return "at_sorting";
    case S::left_sorting:
      return "left_sorting";
    case S::at_delivery_office:
      return "at_delivery_office";
    case S::out_for_delivery:
      return "out_for_delivery";
    case S::attempt_failed:
      return "attempt_failed";
    case S::out_for_redelivery:
      return "out_for_redelivery";
    case S::attempts_exhausted:
      return "attempts_exhausted";
    case S::delivered:
      return "delivered";
    case S::received:
      return "received";
    case S::returning:
      return "returning";
    case S::returned:
      return "returned";
  }
  return "?";
}

std::optional<EventCode> parse_event_code(std::string_view text) {
  for (EventCode code : kAllEventCodes) {
    if (to_string(code) == text) return code;
  }
  return std::nullopt;
}

std::optional<ItemKind> parse_item_kind(std::string_view text) {
  for (ItemKind kind : kAllItemKinds) {
    if (to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

std::optional<ItemState> parse_item_state(std::string_view text) {
  for (ItemState state : kAllItemStates) {
    if (to_string(state) == text) return state;
  }
  return std::nullopt;
}

std::string_view describe_vi(EventCode code) {
  switch (code) {
    case E::EMA:
      return "Bưu điện đã nhận gửi";
    case E::EDD:
      return "Đến trung tâm khai thác";
    case E::EDE:
      return "Rời trung tâm khai thác";
    case E::EMG:
      return "Đến bưu cục phát";
    case E::EDG:
      return "Đang phát";
    case E::EMH:
      return "Phát không thành công";
    case E::EMI:
      return "Đã phát";
    case E::RCV:
      return "Cơ quan đã nhận hồ sơ";
    case E::RES:
      return "Cơ quan đã giao kết quả cho bưu điện";
    case E::RTS:
      return "Chuyển hoàn";
  }
  return "";
}

std::string_view describe_en(EventCode code) {
  switch (code) {
    case E::EMA:
      return "Accepted by the post";
    case E::EDD:
      return "Arrived at a sorting centre";
    case E::EDE:
      return "Left the sorting centre";
    case E::EMG:
      return "Arrived at the delivery post office";
    case E::EDG:
      return "Out for delivery";
    case E::EMH:
      return "Delivery attempt failed";
    case E::EMI:
      return "Delivered";
    case E::RCV:
      return "The office received the dossier";
    case E::RES:
      return "The office handed the result to the post";
    case E::RTS:
      return "Returned to sender";
  }
  return "";
}

std::string_view describe_vi(ItemState state) {
  switch (state) {
    case S::created:
      return "Đã tạo";
    case S::handed_to_post:
      return "Đang chờ bưu điện nhận";
    case S::accepted:
      return "Bưu điện đã nhận gửi";
    case S::at_sorting:
      return "Đang ở trung tâm khai thác";
    case S::left_sorting:
      return "Đã rời trung tâm khai thác";
    case S::at_delivery_office:
      return "Đã đến bưu cục phát";
    case S::out_for_delivery:
      return "Đang phát";
    case S::attempt_failed:
      return "Phát không thành công, chờ phát lại";
    case S::out_for_redelivery:
      return "Đang phát lại";
    case S::attempts_exhausted:
      return "Phát không thành công lần hai, chờ chuyển hoàn";
    case S::delivered:
      return "Đã giao, chờ cơ quan xác nhận";
    case S::received:
      return "Cơ quan đã nhận hồ sơ";
    case S::returning:
      return "Đang chuyển hoàn";
    case S::returned:
      return "Đã chuyển hoàn cho người gửi";
  }
  return "";
}

std::string_view describe_en(ItemState state) {
  switch (state) {
    case S::created:
      return "Created";
    case S::handed_to_post:
      return "Waiting for the post to accept it";
    case S::accepted:
      return "Accepted by the post";
    case S::at_sorting:
      return "At a sorting centre";
    case S::left_sorting:
      return "Left the sorting centre";
    case S::at_delivery_office:
      return "At the delivery post office";
    case S::out_for_delivery:
      return "Out for delivery";
    case S::attempt_failed:
      return "Delivery attempt failed, awaiting a second attempt";
    case S::out_for_redelivery:
      return "Out for a second delivery attempt";
    case S::attempts_exhausted:
      return "Second attempt failed, awaiting return to sender";
    case S::delivered:
      return "Delivered, awaiting the office's confirmation";
    case S::received:
      return "The office received the dossier";
    case S::returning:
      return "Being returned to sender";
    case S::returned:
      return "Returned to sender";
  }
  return "";
}

std::span<const Transition> transition_table() {
  return kTransitions;
}

ItemState initial_state(ItemKind /*kind*/) {
  return S::created;
}

std::optional<ItemState> next_state(ItemKind kind, ItemState from, EventCode code) {
  for (const Transition& row : kTransitions) {
    if (row.kind == kind && row.from == from && row.code == code) return row.to;
  }
  return std::nullopt;
}

std::vector<EventCode> allowed_codes(ItemKind kind, ItemState from) {
  std::vector<EventCode> codes;
  for (EventCode code : kAllEventCodes) {
    if (next_state(kind, from, code)) codes.push_back(code);
  }
  return codes;
}

bool is_final(ItemKind kind, ItemState state) {
  return std::none_of(kTransitions.begin(), kTransitions.end(),
                      [&](const Transition& row) { return row.kind == kind && row.from == state; });
}

Replay replay(ItemKind kind, std::span<const EventCode> codes) {
  Replay result{initial_state(kind), std::nullopt};
  for (std::size_t i = 0; i < codes.size(); ++i) {
    auto next = next_state(kind, result.state, codes[i]);
    if (!next) {
      result.first_illegal = i;
      return result;
    }
    result.state = *next;
  }
  return result;
}

bool requires_reason(EventCode code) {
  return code == E::EMH;
}

bool requires_recipient(ItemKind kind, EventCode code) {
  // A dossier's EMI is the hand-over to the office's counter, which confirms with RCV; a person signs for the
  // other kinds.
  return code == E::EMI && kind != K::dossier;
}

bool requires_id_check(ItemKind kind, EventCode code) {
  return code == E::EMI && kind == K::result;
}

bool recorded_by_post(EventCode code) {
  return code != E::RCV;
}

bool recorded_by_office(EventCode code) {
  return code == E::RCV || code == E::RES;
}

std::string_view describe_vi(ItemKind kind, ItemState state) {
  if (state == ItemState::delivered && kind != ItemKind::dossier) return "Đã phát cho người nhận";
  return describe_vi(state);
}

std::string_view describe_en(ItemKind kind, ItemState state) {
  if (state == ItemState::delivered && kind != ItemKind::dossier) return "Delivered to the recipient";
  return describe_en(state);
}

}  // namespace dpost
