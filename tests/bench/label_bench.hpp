#pragma once

namespace dpost::bench {

// `bench labels [--iterations N] [--seconds S]`: labels per second for each format (PNG and ZPL at 203 and
// 300 dpi, SVG, PDF, the A4 sheet and the receipt) on one thread, next to the bare ZXing encode of the same two
// symbols (Code 128 + QR with MultiFormatWriter) measured in the same run, and the ZXing decode of a rendered
// PNG label; ratios against the bare encode. Goals: PNG label < 5 ms, PDF label < 10 ms on one core.
// Needs dpost_shared (labels, ZXing through its PUBLIC link).
int run_label_bench(int argc, char** argv);

}  // namespace dpost::bench
