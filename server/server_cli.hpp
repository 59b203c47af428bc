#pragma once

namespace dpost::server {

// dossier-server's command line: serve (default), create-admin, verify, backup. Returns the exit code.
int run_server_cli(int argc, char** argv);

}  // namespace dpost::server
