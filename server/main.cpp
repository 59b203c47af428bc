#include "server_cli.hpp"

int main(int argc, char** argv) {
  return dpost::server::run_server_cli(argc, argv);
}
