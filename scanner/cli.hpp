#pragma once

namespace dpost::scanner {

// The whole dossier-scanner program, so that tests can run it without a process: returns the exit code
// (0 help, 2 usage error).
int run_cli(int argc, char** argv);

}  // namespace dpost::scanner
