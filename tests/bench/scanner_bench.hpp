#pragma once

namespace dpost::bench {

// `dossier-bench scanner [--repeat N] [--out DIR]`: label-photo decoding. Times per photo (600x400 label;
// 1600x1200 photo with one and with five labels) for our decoder, for the bare ZXing ReadBarcodes call on the
// same image (the baseline) and for zbarimg on the same files; then the read rate over the generated corpus for
// our decoder and zbarimg. Prints ratios; asserts nothing. Returns 0, or 2 on bad arguments.
int run_scanner_bench(int argc, char** argv);

}  // namespace dpost::bench
