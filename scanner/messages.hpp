#pragma once

#include "sync.hpp"

#include <string>
#include <string_view>

namespace dpost::scanner {

// The clerk's language: Vietnamese by default, English with --lang en.
enum class Lang { vi, en };

// "đã ghi nhận" / "recorded", "không được phép lúc này (bưu gửi đang: Đã nhận gửi)" / "not allowed now (...)".
std::string verdict_text(Lang lang, const EventAnswer& answer);
// One word for scripts: recorded, duplicate, refused.
std::string_view verdict_word(const EventAnswer& answer);

std::string queued_text(Lang lang);    // saved, will send when online
std::string not_ours_text(Lang lang);  // a code that is not one of our item ids
std::string no_code_text(Lang lang);   // no code in the photo
std::string unreadable_text(Lang lang, std::string_view reason);
std::string stop_text(Lang lang, SyncStop stop, std::string_view detail);  // why a sync stopped
std::string summary_text(Lang lang, const OutboxCounts& counts);

}  // namespace dpost::scanner
