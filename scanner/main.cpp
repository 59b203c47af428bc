#include "cli.hpp"

int main(int argc, char** argv) {
  return dpost::scanner::run_cli(argc, argv);
}
