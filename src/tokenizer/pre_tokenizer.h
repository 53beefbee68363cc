// The `pre_tokenizer` stage of tokenizer.json: cuts a text segment into the pieces BPE merges within
// (Split by regex, ByteLevel prefix space / GPT-2 regex / byte mapping, Sequence of these).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_field.h"

namespace bamba {

class PreTokenizer {
 public:
  // `field` is the `pre_tokenizer` value; null leaves each segment whole.
  [[nodiscard]] static PreTokenizer from_json(const JsonField& field);

  // Appends the pieces of `text` (valid UTF-8), in order and non-empty, to `pieces`.
  void split(std::string_view text, std::vector<std::string>& pieces) const;

 private:
  struct Step;
  static void add_steps(const JsonField& field, std::vector<std::shared_ptr<const Step>>& steps);

  std::vector<std::shared_ptr<const Step>> steps_;  // applied in order
};

}  // namespace bamba
