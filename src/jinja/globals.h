// The global functions templates can call: range, dict, namespace, and Hugging Face's
// raise_exception and strftime_now.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "jinja/value.h"

namespace bamba::jinja {

// What raise_exception(message) throws: the message is exactly the template's.
class RaisedException : public Error {
 public:
  using Error::Error;
};

// The global names and their functions. Every namespace() created is also appended to
// `namespaces`, so that the render can empty them at the end and break reference cycles
// (`{% set ns.self = ns %}`).
[[nodiscard]] std::vector<std::pair<std::string, Value>> make_globals(std::vector<std::shared_ptr<Dict>>& namespaces);

}  // namespace bamba::jinja
