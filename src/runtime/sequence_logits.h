// Logits at every position of several token sequences run together from fresh states —
// the primitive behind `bamba logits`, perplexity and the public API's scoring call. The
// three schedules exercise the model's three paths, which must agree: one prompt chunk, one
// token at a time (recurrent step), and a prompt continued from a saved state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/thread_pool.h"
#include "model/model.h"

namespace bamba {

struct LogitsSchedule {
  enum class Kind { Prefill, Decode, Split };
  Kind kind = Kind::Prefill;
  int64_t split_at = 0;  // Split: the first chunk's length (>= 1)

  // "prefill", "decode" or "split:K"; an Error naming `text` otherwise.
  [[nodiscard]] static LogitsSchedule parse(const std::string& text);
};

// Runs `sequences` (each >= 1 token, ids in the vocabulary) as one batch per forward:
//   Prefill: every sequence whole in one forward;
//   Decode:  forward t feeds token t of every sequence longer than t;
//   Split:   the first split_at tokens of each, then the rest continuing from that state.
// The cache keeps KV in kv_dtype and SSM states in state_dtype (see StateCacheOptions).
// Returns [len_i, vocab] row-major logits per sequence.
[[nodiscard]] std::vector<std::vector<float>> sequence_logits(Model& model,
                                                              const std::vector<std::vector<int32_t>>& sequences,
                                                              const LogitsSchedule& schedule, DType kv_dtype,
                                                              DType state_dtype, ThreadPool& pool);

}  // namespace bamba
