// Calibration for quantization: the inputs each Linear weight of a float model multiplies
// while it reads sample token sequences. GPTQ (model/gptq.h) rounds a weight so that its
// output on such inputs changes least.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/half.h"
#include "base/thread_pool.h"
#include "model/model.h"

namespace bamba {

// The rows a weight's input took, one per token, kept in bf16 to halve their memory.
struct LinearInputs {
  int64_t cols = 0;
  int64_t rows = 0;
  std::vector<bf16_t> values;  // [rows, cols]
};

// Weight name -> its inputs. Weights that multiply the same activations (q/k/v, gate/up)
// share one LinearInputs.
using CalibrationInputs = std::map<std::string, std::shared_ptr<const LinearInputs>>;

// Runs `model` over each sequence (token ids, fresh state each, in prompt chunks) and
// collects the input of every Linear whose weight name `wanted` accepts (every one when it
// is empty), including the head over every position. Errors for a token outside the
// vocabulary or a sequence longer than the model's positions. `progress(tokens done, tokens
// in all)`, when given, follows each forward call.
[[nodiscard]] CalibrationInputs collect_linear_inputs(Model& model, std::span<const std::vector<int32_t>> sequences,
                                                      ThreadPool& pool,
                                                      const std::function<bool(const std::string&)>& wanted = {},
                                                      const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace bamba
