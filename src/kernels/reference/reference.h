// The scalar reference of every op in kernels/ops.h: same signatures and contracts, plain
// loops and f32 math. It is the executable specification that every fast variant is tested
// against, and the variant dispatch.cpp uses when no SIMD one exists.
#pragma once

#include "kernels/ops.h"

namespace bamba::kernels::reference {

void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
            MathMode mode, ThreadPool& pool);
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
void softplus_bias(const float* dt_raw, int64_t raw_stride, int64_t n_tokens, int64_t n_heads,
                   const float* dt_bias, float* dt);
void ssd_chunk_scan(const SsmScanArgs& args, int64_t chunk_len, ThreadPool& pool);
void ssm_scan_recurrent(const SsmScanArgs& args, ThreadPool& pool);
void attention(const AttentionArgs& args, ThreadPool& pool);
// Matrices with w.quant != Quant::None (quant_matmul.cpp).
void matmul_quantized(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
                      MathMode mode, ThreadPool& pool);
void embedding_rows_quantized(const Matrix& table, const int32_t* ids, int64_t n_ids, float* out);

}  // namespace bamba::kernels::reference
