// The `post_processor` of tokenizer.json for one sequence: the special tokens (e.g. BOS) placed around
// the encoded text when special tokens are added.
#pragma once

#include <cstdint>
#include <vector>

#include "tokenizer/json_field.h"

namespace bamba {

struct PostProcessor {
  std::vector<int32_t> prefix;  // ids before the text
  std::vector<int32_t> suffix;  // ids after it

  // `field` is the `post_processor` value: null, ByteLevel (changes only offsets), TemplateProcessing,
  // or a Sequence of these.
  [[nodiscard]] static PostProcessor from_json(const JsonField& field);
};

}  // namespace bamba
