// The SIMD variants in this folder, one namespace per instruction-set level. Each is
// compiled with its own target flags and reached only through dispatch.cpp, after the CPU
// check; an op without a variant at some level uses the reference there.
#pragma once

#include "kernels/ops.h"

namespace bamba::kernels {

namespace avx2 {
void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
            MathMode mode, ThreadPool& pool);
void attention(const AttentionArgs& args, ThreadPool& pool);
void ssd_chunk_scan(const SsmScanArgs& args, int64_t chunk_len, ThreadPool& pool);
}  // namespace avx2

namespace avx512 {
void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
            MathMode mode, ThreadPool& pool);
void attention(const AttentionArgs& args, ThreadPool& pool);
void ssd_chunk_scan(const SsmScanArgs& args, int64_t chunk_len, ThreadPool& pool);
}  // namespace avx512

}  // namespace bamba::kernels
