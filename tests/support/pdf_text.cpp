#include "pdf_text.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace dpost::test {

std::string pdf_to_text(const std::string& pdf) {
  std::random_device random;
  const auto base = std::filesystem::temp_directory_path() / ("dpost-itest-pdf-" + std::to_string(random()));
  std::ofstream(base.string() + ".pdf", std::ios::binary) << pdf;
  const auto command = "pdftotext -enc UTF-8 '" + base.string() + ".pdf' '" + base.string() + ".txt'";
  std::string text;
  if (std::system(command.c_str()) == 0) {
    std::ifstream in(base.string() + ".txt", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  std::filesystem::remove(base.string() + ".pdf");
  std::filesystem::remove(base.string() + ".txt");
  return text;
}

}  // namespace dpost::test
