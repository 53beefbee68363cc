// The one error type of the library: thrown on bad input (files, configs, requests) with
// enough context (file, tensor, key, expected vs found) that a user can act on the message.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace bamba {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates its arguments with operator<< (GCC 12 has no std::format).
template <class... Args>
[[nodiscard]] std::string str_cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

// Throws bamba::Error with the concatenated message.
template <class... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(str_cat(std::forward<Args>(args)...));
}

}  // namespace bamba

// Internal invariants of hot paths: checked in debug and sanitizer builds only.
#if defined(BAMBA_DCHECKS) || !defined(NDEBUG)
#define BAMBA_DCHECK(cond)                                                              \
  do {                                                                                  \
    if (!(cond)) ::bamba::fail(__FILE__, ":", __LINE__, ": internal check failed: ", #cond); \
  } while (0)
#else
#define BAMBA_DCHECK(cond) \
  do {                     \
  } while (0)
#endif
