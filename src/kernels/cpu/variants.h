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
void embedding_rows(const Matrix& table, const int32_t* ids, int64_t n_ids, float* out);
void rms_norm(const float* x, int64_t m, int64_t n, const float* w, float eps, float* y);
void gated_rms_norm(const float* y, int64_t y_stride, const float* z, int64_t z_stride, int64_t m,
                    int64_t n, int64_t n_groups, const float* w, float eps, float* out,
                    int64_t out_stride);
void swiglu(const float* gate, const float* up, int64_t n, float* out);
void add_inplace(float* dst, const float* src, int64_t n);
void rope(float* x, int64_t n_tokens, int64_t x_stride, int64_t n_heads, int64_t head_dim,
          int64_t rotary_dim, float theta, const int32_t* positions);
void causal_conv1d_silu(const float* in, int64_t in_stride, int64_t n_tokens, int64_t channels,
                        float* window, const float* w, const float* bias, int64_t d_conv,
                        float* out, int64_t out_stride);
}  // namespace avx2

namespace avx512 {
void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
            MathMode mode, ThreadPool& pool);
void attention(const AttentionArgs& args, ThreadPool& pool);
void ssd_chunk_scan(const SsmScanArgs& args, int64_t chunk_len, ThreadPool& pool);
void ssm_scan_recurrent(const SsmScanArgs& args, ThreadPool& pool);
void embedding_rows(const Matrix& table, const int32_t* ids, int64_t n_ids, float* out);
void rms_norm(const float* x, int64_t m, int64_t n, const float* w, float eps, float* y);
void gated_rms_norm(const float* y, int64_t y_stride, const float* z, int64_t z_stride, int64_t m,
                    int64_t n, int64_t n_groups, const float* w, float eps, float* out,
                    int64_t out_stride);
void swiglu(const float* gate, const float* up, int64_t n, float* out);
void add_inplace(float* dst, const float* src, int64_t n);
void rope(float* x, int64_t n_tokens, int64_t x_stride, int64_t n_heads, int64_t head_dim,
          int64_t rotary_dim, float theta, const int32_t* positions);
void causal_conv1d_silu(const float* in, int64_t in_stride, int64_t n_tokens, int64_t channels,
                        float* window, const float* w, const float* bias, int64_t d_conv,
                        float* out, int64_t out_stride);
}  // namespace avx512

// AVX-512 plus AVX512-BF16 (and VNNI for the int8 peak loop).
namespace avx512bf16 {
void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
            MathMode mode, ThreadPool& pool);
// Register-only loops for the roofline: run `iterations`, return the operations done.
double peak_loop_bf16(int64_t iterations);
double peak_loop_int8(int64_t iterations);
}  // namespace avx512bf16

// AVX512-BF16 plus AMX tiles (the calling thread must have the kernel's tile permission,
// which cpu_features() requests).
namespace amx {
void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
            MathMode mode, ThreadPool& pool);
double peak_loop_bf16(int64_t iterations);
double peak_loop_int8(int64_t iterations);
}  // namespace amx

}  // namespace bamba::kernels
