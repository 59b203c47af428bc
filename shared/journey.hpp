#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace dpost {

// Event codes: UPU EMSEVT where one exists, plus the domestic RCV, RES, RTS (design.md section 4).
enum class EventCode { EMA, EDD, EDE, EMG, EDG, EMH, EMI, RCV, RES, RTS };
inline constexpr std::array kAllEventCodes{EventCode::EMA, EventCode::EDD, EventCode::EDE, EventCode::EMG,
                                           EventCode::EDG, EventCode::EMH, EventCode::EMI, EventCode::RCV,
                                           EventCode::RES, EventCode::RTS};

// dossier: citizen -> office; result: office -> citizen; return_item ("return" on the wire): back to sender.
enum class ItemKind { dossier, result, return_item };
inline constexpr std::array kAllItemKinds{ItemKind::dossier, ItemKind::result, ItemKind::return_item};

enum class ItemState {
  created,             // registered, label printed, nothing handed over yet
  handed_to_post,      // RES: the office gave the result to the post
  accepted,            // EMA: the post accepted it from the sender
  at_sorting,          // EDD
  left_sorting,        // EDE
  at_delivery_office,  // EMG
  out_for_delivery,    // EDG, first attempt
  attempt_failed,      // EMH after the first attempt
  out_for_redelivery,  // EDG after a failed attempt
  attempts_exhausted,  // EMH after the second attempt: RTS, or EDG when attempts were too close
  delivered,           // EMI; for a dossier: handed to the office, awaiting its confirmation
  received,            // RCV: the office confirmed receipt of the dossier
  returning,           // RTS: on its way back to the sender
  returned,            // back with the sender (EMI to the citizen, or RCV at the office)
};
inline constexpr std::array kAllItemStates{ItemState::created,
                                           ItemState::handed_to_post,
                                           ItemState::accepted,
                                           ItemState::at_sorting,
                                           ItemState::left_sorting,
                                           ItemState::at_delivery_office,
                                           ItemState::out_for_delivery,
                                           ItemState::attempt_failed,
                                           ItemState::out_for_redelivery,
                                           ItemState::attempts_exhausted,
                                           ItemState::delivered,
                                           ItemState::received,
                                           ItemState::returning,
                                           ItemState::returned};

std::string_view to_string(EventCode code);
std::string_view to_string(ItemKind kind);  // "dossier", "result", "return"
std::string_view to_string(ItemState state);
std::optional<EventCode> parse_event_code(std::string_view text);  // exact upper-case code
std::optional<ItemKind> parse_item_kind(std::string_view text);
std::optional<ItemState> parse_item_state(std::string_view text);

// Plain-language descriptions for people: Vietnamese first, English second.
std::string_view describe_vi(EventCode code);
std::string_view describe_en(EventCode code);
std::string_view describe_vi(ItemState state);
std::string_view describe_en(ItemState state);
// The same, worded for the item's kind where it matters: a delivered dossier awaits the office's
// confirmation, a delivered result is simply delivered.
std::string_view describe_vi(ItemKind kind, ItemState state);
std::string_view describe_en(ItemKind kind, ItemState state);

// One row of the transition table: in `from`, event `code` on an item of `kind` leads to `to`.
struct Transition {
  ItemKind kind;
  ItemState from;
  EventCode code;
  ItemState to;
};

// The one explicit table of allowed transitions; everything not listed is forbidden.
std::span<const Transition> transition_table();
ItemState initial_state(ItemKind kind);
std::optional<ItemState> next_state(ItemKind kind, ItemState from, EventCode code);
std::vector<EventCode> allowed_codes(ItemKind kind, ItemState from);  // in kAllEventCodes order
bool is_final(ItemKind kind, ItemState state);                        // no event allowed any more

// Replays a history ordered by occurrence. `first_illegal` is the index of the first event the table forbids
// (replay stops there and `state` is the state before it).
struct Replay {
  ItemState state;
  std::optional<std::size_t> first_illegal;
};
Replay replay(ItemKind kind, std::span<const EventCode> codes);

// Codes that need extra fields: EMH a reason; EMI on a result or return item a recipient.
bool requires_reason(EventCode code);
bool requires_recipient(ItemKind kind, EventCode code);
// A result is handed only to the applicant or an authorised person: its EMI records the ID document checked.
bool requires_id_check(ItemKind kind, EventCode code);

// Which role records a code (design.md section 4): RCV office staff; RES office staff or clerk; others clerk.
bool recorded_by_post(EventCode code);
bool recorded_by_office(EventCode code);

}  // namespace dpost
