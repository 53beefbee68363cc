// Runs a program (the `bamba` binary under test) with arguments and optional stdin text,
// capturing stdout, stderr and how it ended — a crash is told apart from an error exit.
#pragma once

#include <string>
#include <vector>

namespace bamba::testing {

struct CommandResult {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it (a crash)
  std::string out;
  std::string err;

  // "exit 0" / "signal 11", and the tail of stderr, for failure messages.
  [[nodiscard]] std::string describe() const;
};

// argv[0] is the program path. Fails the whole check (exit 1) if it cannot be started.
[[nodiscard]] CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// The last non-empty line of `text`.
[[nodiscard]] std::string last_line(const std::string& text);

// Prints "FAIL: <message>" and exits 1 when `ok` is false.
void check(bool ok, const std::string& message);

}  // namespace bamba::testing
