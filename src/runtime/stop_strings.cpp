// Stop-string search over streamed text; see stop_strings.h.
#include "runtime/stop_strings.h"

#include <algorithm>

namespace bamba {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stop_strings)
    : stop_strings_(std::move(stop_strings)) {
  std::erase_if(stop_strings_, [](const std::string& s) { return s.empty(); });
}

StopStringMatcher::Piece StopStringMatcher::push(std::string_view text) {
  if (stopped_) return {};
  pending_.append(text);

  // The earliest occurrence of any stop string ends the stream.
  size_t stop_at = std::string::npos;
  for (const std::string& stop : stop_strings_) stop_at = std::min(stop_at, pending_.find(stop));
  if (stop_at != std::string::npos) {
    stopped_ = true;
    Piece piece{pending_.substr(0, stop_at), true};
    pending_.clear();
    return piece;
  }

  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const std::string& stop : stop_strings_) {
    for (size_t n = std::min(stop.size() - 1, pending_.size()); n > hold; --n) {
      if (std::string_view(pending_).substr(pending_.size() - n) == std::string_view(stop).substr(0, n)) {
        hold = n;
        break;
      }
    }
  }
  Piece piece{pending_.substr(0, pending_.size() - hold), false};
  pending_.erase(0, pending_.size() - hold);
  return piece;
}

std::string StopStringMatcher::flush() {
  std::string rest;
  rest.swap(pending_);
  return stopped_ ? std::string() : rest;
}

}  // namespace bamba
