// Runs a command that must fail cleanly: the expected exit status, a message on stderr that
// contains the expected words, no crash and no sanitizer report.
//
// usage: expect_failure EXIT_CODE STDERR_SUBSTRING PROGRAM [ARGS...]
#include <string>
#include <vector>

#include "run_command.h"

using namespace bamba::testing;

int main(int argc, char** argv) {
  check(argc >= 4, "usage: expect_failure EXIT_CODE STDERR_SUBSTRING PROGRAM [ARGS...]");
  const int expected = std::stoi(argv[1]);
  const std::string words = argv[2];
  const CommandResult r = run_command(std::vector<std::string>(argv + 3, argv + argc));
  check(r.signal == 0, "crashed: " + r.describe());
  // Sanitizer builds report leaks and memory errors with exit status 1, like a clean error.
  check(r.err.find("Sanitizer") == std::string::npos, "sanitizer report: " + r.describe());
  check(r.exit_code == expected, "expected exit " + std::to_string(expected) + ", got " + r.describe());
  check(r.err.find(words) != std::string::npos, "stderr lacks \"" + words + "\": " + r.describe());
  return 0;
}
