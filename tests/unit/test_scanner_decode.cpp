// Label photos in, item ids out: the generated corpus (every label read, no wrong id) and the ZXing 1.4 abort
// photo.
#include "../scanner_corpus/label_corpus.hpp"
#include "decode.hpp"
#include "image.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>

namespace {

using dpost::scanner::decode_labels;
using dpost::scanner::GrayImage;

std::vector<std::string> texts(const dpost::scanner::DecodedLabels& labels) {
  std::vector<std::string> out;
  for (const auto& id : labels.ids) out.push_back(id.str());
  return out;
}

}  // namespace

TEST_CASE("scanner decode: the generated label corpus is read completely with no wrong id") {
  const auto started = std::chrono::steady_clock::now();
  const auto corpus = dpost::scanner_corpus::make_corpus();
  const auto generated = std::chrono::steady_clock::now();
  std::size_t labels = 0;
  std::size_t read = 0;
  std::size_t wrong = 0;
  std::map<std::string, std::pair<int, int>> by_group;  // read, total
  double decode_ms = 0;
  for (const auto& photo : corpus) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto found = texts(decode_labels(photo.image));
    decode_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::size_t hits = 0;
    for (const auto& id : photo.expected_ids) hits += std::count(found.begin(), found.end(), id) > 0 ? 1 : 0;
    std::size_t extra = 0;
    for (const auto& id : found)
      extra += std::find(photo.expected_ids.begin(), photo.expected_ids.end(), id) == photo.expected_ids.end() ? 1 : 0;
    if (hits != photo.expected_ids.size() && std::getenv("DPOST_SCANNER_DUMP_DIR")) {
      const std::string path = std::string(std::getenv("DPOST_SCANNER_DUMP_DIR")) + "/" + photo.name + ".png";
      stbi_write_png(path.c_str(), photo.image.width, photo.image.height, 1, photo.image.pixels.data(),
                     photo.image.width);
    }
    CHECK_MESSAGE(hits == photo.expected_ids.size(),
                  photo.name << ": read " << hits << " of " << photo.expected_ids.size());
    CHECK_MESSAGE(extra == 0, photo.name << ": " << extra << " wrong ids");
    labels += photo.expected_ids.size();
    read += hits;
    wrong += extra;
    by_group[photo.group].first += static_cast<int>(hits);
    by_group[photo.group].second += static_cast<int>(photo.expected_ids.size());
  }
  std::string groups;
  for (const auto& [group, counts] : by_group)
    groups += " " + group + " " + std::to_string(counts.first) + "/" + std::to_string(counts.second) + ";";
  MESSAGE("scanner corpus: " << corpus.size() << " photos, " << labels << " labels, read " << read << " ("
                             << (labels ? 100.0 * static_cast<double>(read) / static_cast<double>(labels) : 0.0)
                             << " %), wrong ids " << wrong << "; generated in "
                             << std::chrono::duration<double>(generated - started).count() << " s, decoded in "
                             << decode_ms / 1000.0 << " s;" << groups);
  CHECK(read == labels);
  CHECK(wrong == 0);
}

TEST_CASE("scanner decode: the ZXing 1.4 abort photo is read without aborting the process") {
  // With ZXing's own downscaling this photo trips assert(lineCount() == 1) in Result.cpp (upstream #740): the
  // whole program would die. Its label is another carrier's (RR000012345FR, not a valid S10 check digit).
  const auto decoded = dpost::scanner::decode_file(DPOST_TESTDATA_DIR "/zxing-1.4-abort-photo.png");
  REQUIRE_FALSE(decoded.error.has_value());
  CHECK(decoded.labels.ids.empty());
  REQUIRE(decoded.labels.ignored.size() == 1);
  CHECK(decoded.labels.ignored[0] == "RR000012345FR");
}

TEST_CASE("scanner decode: a flat label is read by the first pass") {
  const auto label =
      dpost::scanner_corpus::render_label(dpost::scanner_corpus::corpus_id(1), dpost::scanner_corpus::corpus_url(1));
  dpost::scanner::DecodeOptions fast;
  fast.fast_pass_only = true;
  CHECK(texts(decode_labels(label, fast)) == std::vector<std::string>{dpost::scanner_corpus::corpus_id(1)});
}

TEST_CASE("scanner decode: files that are not images, and tracking links") {
  auto missing = dpost::scanner::decode_file("/nonexistent/photo.png");
  REQUIRE(missing.error.has_value());
  CHECK(*missing.error == dpost::scanner::ImageError::unreadable);
  const std::vector<std::uint8_t> garbage{'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
  auto bad = dpost::scanner::load_image(garbage);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error() == dpost::scanner::ImageError::not_an_image);
  CHECK(dpost::scanner::is_tracking_link("https://dossierpost.vn/t/AbC123"));
  CHECK_FALSE(dpost::scanner::is_tracking_link("https://dossierpost.vn/t/"));
  CHECK_FALSE(dpost::scanner::is_tracking_link("EH000000014VN"));
}
