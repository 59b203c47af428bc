#include "journey.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <tuple>
#include <vector>

using dpost::EventCode;
using dpost::ItemKind;
using dpost::ItemState;

namespace {

using E = EventCode;
using K = ItemKind;
using S = ItemState;
using Key = std::tuple<K, S, E>;

// Written out independently of journey.cpp, row by row, from the design's journey (design.md section 4).
std::map<Key, S> expected_rows() {
  std::map<Key, S> rows;
  auto add = [&](K k, S from, E code, S to) { rows.emplace(Key{k, from, code}, to); };
  for (K k : {K::dossier, K::result, K::return_item}) {
    add(k, S::accepted, E::EDD, S::at_sorting);
    add(k, S::accepted, E::EMG, S::at_delivery_office);
    add(k, S::at_sorting, E::EDE, S::left_sorting);
    add(k, S::left_sorting, E::EDD, S::at_sorting);
    add(k, S::left_sorting, E::EMG, S::at_delivery_office);
    add(k, S::at_delivery_office, E::EDD, S::at_sorting);
    add(k, S::at_delivery_office, E::EDG, S::out_for_delivery);
    add(k, S::out_for_delivery, E::EMI, S::delivered);
    add(k, S::out_for_delivery, E::EMH, S::attempt_failed);
    add(k, S::attempt_failed, E::EDG, S::out_for_redelivery);
    add(k, S::attempt_failed, E::RTS, S::returning);
    add(k, S::out_for_redelivery, E::EMI, S::delivered);
    add(k, S::out_for_redelivery, E::EMH, S::attempts_exhausted);
    add(k, S::attempts_exhausted, E::RTS, S::returning);
    add(k, S::attempts_exhausted, E::EDG, S::out_for_redelivery);
    add(k, S::returning, E::EDD, S::returning);
    add(k, S::returning, E::EDE, S::returning);
    add(k, S::returning, E::EMG, S::returning);
    add(k, S::returning, E::EDG, S::returning);
  }
  add(K::dossier, S::created, E::EMA, S::accepted);
  add(K::dossier, S::delivered, E::RCV, S::received);
  add(K::dossier, S::returning, E::EMI, S::returned);

  add(K::result, S::created, E::RES, S::handed_to_post);
  add(K::result, S::handed_to_post, E::EMA, S::accepted);
  add(K::result, S::returning, E::RCV, S::returned);

  add(K::return_item, S::created, E::EMA, S::accepted);
  add(K::return_item, S::returning, E::EMI, S::returned);
  return rows;
}

}  // namespace

TEST_CASE("journey: next_state matches the expected table for every kind x state x code") {
  const auto expected = expected_rows();
  std::size_t allowed = 0;
  std::size_t checked = 0;
  for (K kind : dpost::kAllItemKinds) {
    for (S from : dpost::kAllItemStates) {
      for (E code : dpost::kAllEventCodes) {
        CAPTURE(dpost::to_string(kind));
        CAPTURE(dpost::to_string(from));
        CAPTURE(dpost::to_string(code));
        auto it = expected.find(Key{kind, from, code});
        auto actual = dpost::next_state(kind, from, code);
        if (it == expected.end()) {
          CHECK_FALSE(actual.has_value());
        } else {
          REQUIRE(actual.has_value());
          CHECK(*actual == it->second);
          ++allowed;
        }
        ++checked;
      }
    }
  }
  CHECK(checked == 3 * 14 * 10);
  CHECK(allowed == expected.size());
}

TEST_CASE("journey: the table has no duplicate (kind, from, code) rows and matches the expected rows") {
  std::set<Key> seen;
  for (const auto& row : dpost::transition_table()) {
    CHECK(seen.insert(Key{row.kind, row.from, row.code}).second);
  }
  CHECK(dpost::transition_table().size() == expected_rows().size());
}

TEST_CASE("journey: allowed_codes lists exactly the codes with a next state, in kAllEventCodes order") {
  for (K kind : dpost::kAllItemKinds) {
    for (S from : dpost::kAllItemStates) {
      std::vector<E> expected;
      for (E code : dpost::kAllEventCodes) {
        if (dpost::next_state(kind, from, code)) expected.push_back(code);
      }
      CHECK(dpost::allowed_codes(kind, from) == expected);
      CHECK(dpost::is_final(kind, from) == expected.empty());
    }
  }
  CHECK(dpost::allowed_codes(K::dossier, S::created) == std::vector<E>{E::EMA});
  CHECK(dpost::allowed_codes(K::result, S::created) == std::vector<E>{E::RES});
  CHECK(dpost::allowed_codes(K::dossier, S::out_for_delivery) == std::vector<E>{E::EMH, E::EMI});
}

TEST_CASE("journey: initial state and reachability") {
  std::map<K, std::set<S>> expected_reachable{
      {K::dossier,
       {S::accepted, S::at_sorting, S::left_sorting, S::at_delivery_office, S::out_for_delivery, S::attempt_failed,
        S::out_for_redelivery, S::attempts_exhausted, S::delivered, S::received, S::returning, S::returned}},
      {K::result,
       {S::handed_to_post, S::accepted, S::at_sorting, S::left_sorting, S::at_delivery_office, S::out_for_delivery,
        S::attempt_failed, S::out_for_redelivery, S::attempts_exhausted, S::delivered, S::returning, S::returned}},
      {K::return_item,
       {S::accepted, S::at_sorting, S::left_sorting, S::at_delivery_office, S::out_for_delivery, S::attempt_failed,
        S::out_for_redelivery, S::attempts_exhausted, S::delivered, S::returning, S::returned}},
  };
  for (K kind : dpost::kAllItemKinds) {
    CAPTURE(dpost::to_string(kind));
    CHECK(dpost::initial_state(kind) == S::created);
    std::set<S> reached;
    std::vector<S> frontier{dpost::initial_state(kind)};
    while (!frontier.empty()) {
      S s = frontier.back();
      frontier.pop_back();
      for (E code : dpost::allowed_codes(kind, s)) {
        S next = *dpost::next_state(kind, s, code);
        if (reached.insert(next).second) frontier.push_back(next);
      }
    }
    CHECK(reached == expected_reachable[kind]);
  }
}

TEST_CASE("journey: final states") {
  CHECK(dpost::is_final(K::dossier, S::received));
  CHECK(dpost::is_final(K::dossier, S::returned));
  CHECK_FALSE(dpost::is_final(K::dossier, S::delivered));
  CHECK(dpost::is_final(K::result, S::delivered));
  CHECK(dpost::is_final(K::result, S::returned));
  CHECK(dpost::is_final(K::return_item, S::delivered));
  CHECK(dpost::is_final(K::return_item, S::returned));
  CHECK_FALSE(dpost::is_final(K::result, S::created));
  CHECK_FALSE(dpost::is_final(K::result, S::attempts_exhausted));
}

TEST_CASE("journey: replay of the design's normal journeys") {
  {
    std::vector<E> codes{E::EMA, E::EDD, E::EDE, E::EMG, E::EDG, E::EMI, E::RCV};
    auto r = dpost::replay(K::dossier, codes);
    CHECK(r.state == S::received);
    CHECK_FALSE(r.first_illegal.has_value());
  }
  {
    std::vector<E> codes{E::RES, E::EMA, E::EDD, E::EDE, E::EMG, E::EDG, E::EMH, E::EDG, E::EMI};
    auto r = dpost::replay(K::result, codes);
    CHECK(r.state == S::delivered);
    CHECK_FALSE(r.first_illegal.has_value());
  }
  {
    std::vector<E> codes{E::RES, E::EMA, E::EMG, E::EDG, E::EMH, E::EDG, E::EMH, E::RTS, E::RCV};
    auto r = dpost::replay(K::result, codes);
    CHECK(r.state == S::returned);
    CHECK_FALSE(r.first_illegal.has_value());
  }
  {
    auto r = dpost::replay(K::dossier, std::vector<E>{});
    CHECK(r.state == S::created);
    CHECK_FALSE(r.first_illegal.has_value());
  }
}

TEST_CASE("journey: replay stops at the first forbidden event and reports its index") {
  std::vector<E> codes{E::EMA, E::EDD, E::EDG, E::EMI};  // EDG straight from sorting is forbidden
  auto r = dpost::replay(K::dossier, codes);
  REQUIRE(r.first_illegal.has_value());
  CHECK(*r.first_illegal == 2);
  CHECK(r.state == S::at_sorting);

  auto twice = dpost::replay(K::dossier, std::vector<E>{E::EMA, E::EMA});
  CHECK(twice.first_illegal == std::optional<std::size_t>{1});
  CHECK(twice.state == S::accepted);

  auto result_without_res = dpost::replay(K::result, std::vector<E>{E::EMA});
  CHECK(result_without_res.first_illegal == std::optional<std::size_t>{0});
  CHECK(result_without_res.state == S::created);
}

TEST_CASE("journey: names round-trip") {
  for (E code : dpost::kAllEventCodes) {
    CHECK(dpost::parse_event_code(dpost::to_string(code)) == code);
    CHECK_FALSE(dpost::describe_vi(code).empty());
    CHECK_FALSE(dpost::describe_en(code).empty());
  }
  for (K kind : dpost::kAllItemKinds) CHECK(dpost::parse_item_kind(dpost::to_string(kind)) == kind);
  for (S state : dpost::kAllItemStates) {
    CHECK(dpost::parse_item_state(dpost::to_string(state)) == state);
    CHECK_FALSE(dpost::describe_vi(state).empty());
    CHECK_FALSE(dpost::describe_en(state).empty());
  }
  CHECK(dpost::to_string(K::return_item) == "return");
  CHECK_FALSE(dpost::parse_event_code("ema").has_value());
  CHECK_FALSE(dpost::parse_event_code("").has_value());
  CHECK_FALSE(dpost::parse_item_kind("return_item").has_value());
  CHECK(dpost::describe_vi(E::EMA) == "Bưu điện đã nhận gửi");
  CHECK(dpost::describe_vi(E::RTS) == "Chuyển hoàn");
  CHECK(dpost::describe_vi(S::delivered) == "Đã giao, chờ cơ quan xác nhận");
}

TEST_CASE("journey: extra fields and roles") {
  for (E code : dpost::kAllEventCodes) {
    CHECK(dpost::requires_reason(code) == (code == E::EMH));
    CHECK_FALSE(dpost::requires_recipient(K::dossier, code));
    CHECK(dpost::requires_recipient(K::result, code) == (code == E::EMI));
    CHECK(dpost::requires_recipient(K::return_item, code) == (code == E::EMI));
    CHECK(dpost::recorded_by_post(code) == (code != E::RCV));
    CHECK(dpost::recorded_by_office(code) == (code == E::RCV || code == E::RES));
  }
}

TEST_CASE("journey: a delivered result is described as delivered, a delivered dossier as awaiting the office") {
  using dpost::ItemKind;
  using dpost::ItemState;
  CHECK(dpost::describe_vi(ItemKind::dossier, ItemState::delivered) == dpost::describe_vi(ItemState::delivered));
  CHECK(dpost::describe_vi(ItemKind::result, ItemState::delivered) == "Đã phát cho người nhận");
  CHECK(dpost::describe_en(ItemKind::result, ItemState::delivered) == "Delivered to the recipient");
  CHECK(dpost::describe_vi(ItemKind::result, ItemState::accepted) == dpost::describe_vi(ItemState::accepted));
}
