// A hook on the input of every Linear of a forward pass: what calibrated quantization
// (model/calibration.h) learns the activations' statistics from.
#pragma once

#include <cstdint>

#include "kernels/ops.h"

namespace bamba {

class LinearInputObserver {
 public:
  virtual ~LinearInputObserver() = default;
  // Called before y = x weight^T: x is [rows, cols] with row stride cols, cols = weight.cols.
  virtual void observe(const kernels::Matrix& weight, const float* x, int64_t rows, int64_t cols) = 0;
};

}  // namespace bamba
