#pragma once

#include "image.hpp"

#include <item_id.hpp>

#include <optional>
#include <string>
#include <vector>

namespace dpost::scanner {

// What one photo holds: our item ids (each passed ItemId::parse, so the S10 check digit holds) in the order
// found, without repeats, and the texts of codes that are not ours (another carrier's barcode, a foreign S10
// id, a QR that is not a tracking link). The QR of our own labels carries a tracking URL, not the id: it is
// used to locate labels and is reported in neither list.
struct DecodedLabels {
  std::vector<ItemId> ids;
  std::vector<std::string> ignored;
};

// Tuning knobs, exposed for the benchmark and the tests; the defaults are what the clerk's program uses.
struct DecodeOptions {
  // Photos wider than this are shrunk with a 2x2 box filter before the first pass.
  int work_width = 1000;
  // Rotation steps tried when the first pass misses a label (Code 128 is read along rows, so it needs to be
  // within about +-10 degrees of horizontal or vertical).
  int rotation_step_degrees = 15;
  // Stop at the first pass (upright image, no retries): what a bare ZXing call does, for comparisons.
  bool fast_pass_only = false;
};

// Finds every label in the photo. Pure: no I/O, no exceptions for unreadable content (an empty result).
DecodedLabels decode_labels(const GrayImage& photo, const DecodeOptions& options = {});

// One file for `dossier-scanner decode`: the image could not be loaded (`error`) or was decoded.
struct FileDecode {
  std::string file;
  std::optional<ImageError> error;
  DecodedLabels labels;
};
FileDecode decode_file(const std::string& path, const DecodeOptions& options = {});

// Is `text` the tracking link of one of our labels ({base}/t/{token})? Such QR codes are not reported.
bool is_tracking_link(std::string_view text);

}  // namespace dpost::scanner
