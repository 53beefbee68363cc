// Finds stop strings in streamed text. Text that could still turn out to be the beginning of
// a stop string is held back until the next piece decides it, so a client never receives
// text that a stop string later cuts away.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bamba {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stop_strings);

  struct Piece {
    std::string text;      // safe to emit now; never contains a stop string
    bool stopped = false;  // a stop string was found: `text` ends where it began
  };

  // Appends newly decoded text. After a stop, further pushes return nothing.
  [[nodiscard]] Piece push(std::string_view text);

  // The held-back text, at the end of the stream (no stop string can complete any more).
  [[nodiscard]] std::string flush();

 private:
  std::vector<std::string> stop_strings_;
  std::string pending_;  // held back: a suffix that is a prefix of some stop string
  bool stopped_ = false;
};

}  // namespace bamba
