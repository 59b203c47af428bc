#pragma once

#include <span>
#include <string_view>

namespace dpost {

// A text file compiled into a binary (migrations, web assets); see cmake/embed.cmake.
struct EmbeddedFile {
  std::string_view name;
  std::string_view text;
};

}  // namespace dpost
