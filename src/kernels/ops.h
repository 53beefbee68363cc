// Every compute op the model uses, with backend-neutral signatures. Model code calls these;
// dispatch.cpp binds each to the best variant the CPU supports (AMX > AVX-512 > AVX2 >
// scalar), and src/kernels/reference/ holds the plain scalar definition of each.
// Kernels see plain pointers and sizes only: never model or state types.
#pragma once

#include <cstdint>

#include "base/dtype.h"
#include "base/thread_pool.h"

namespace bamba::kernels {

// How a Matrix's values are stored. None: plain dtype elements. Int8: dtype I8, one signed
// byte q per weight. Int4: dtype U8, two weights per byte, each (q + 8) in a nibble.
// Quantized weights are w[j, k] = s[j, k / group_size] · q[j, k], in one of two layouts.
enum class Quant : uint8_t { None, Int8, Int4 };

// RowMajor: as checkpoints store them — q row by row (Int4: element 2i of a row in the low
// nibble of byte i, compressed-tensors "pack-quantized" order), s[j, g] at
// scales[j · groups + g].
// RowBlocks (made by quant_layout.h's block_rows_in_place): rows in blocks of
// kQuantRowBlock (the last block may be shorter: R rows); inside a block, for every 4 (Int8)
// or 8 (Int4) consecutive columns k0.., R·4 bytes with row r's at r·4 — Int8: q[k0 + t] in
// byte t; Int4: byte t = (q[k0 + t] + 8) | (q[k0 + 4 + t] + 8) << 4. Scales: per block, per
// group, R floats. One vector register then holds the same columns of 16 rows, so integer
// dot-product kernels stream each block contiguously and finish without horizontal sums.
enum class QuantLayout : uint8_t { RowMajor, RowBlocks };
inline constexpr int64_t kQuantRowBlock = 16;

// A weight matrix in its stored dtype (F32, F16 or BF16), row-major [rows, cols] — the
// Hugging Face Linear layout [out_features, in_features] — or quantized in `layout`.
struct Matrix {
  const void* data = nullptr;
  DType dtype = DType::F32;
  int64_t rows = 0;  // out features
  int64_t cols = 0;  // in features
  Quant quant = Quant::None;
  const float* scales = nullptr;  // rows · (cols / group_size) when quantized
  int64_t group_size = 0;         // weights of a row sharing one scale (cols: per channel)
  QuantLayout layout = QuantLayout::RowMajor;
};

// How matmul may treat its f32 activations. F32: exactly (weights widened exactly, f32
// accumulation) — the debugging reference. BF16: activations may be rounded to bf16 so that
// bf16 dot-product hardware (AMX, AVX512-BF16) can be used; accumulation stays f32.
enum class MathMode : uint8_t { F32, BF16 };

// y[i, j] = sum_k x[i, k] * w[j, k]     x: [m, w.cols] (row stride x_stride),
//                                       y: [m, w.rows] (row stride y_stride)
// Quantized weights: in F32 mode w is dequantized exactly; in BF16 mode each row of x may be
// quantized for integer dot-product hardware, symmetric per block of activation_block(w)
// columns to [-activation_levels(w), activation_levels(w)] (scale max|x| / levels over the
// block), with exact integer sums per block.
void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
            MathMode mode, ThreadPool& pool);

// Activations beside Int4 weights are int8, whose rounding the weights' dwarfs, with a scale
// per 32 columns so that a few large activations do not flatten the rest. Beside Int8 weights
// int8 activations would double the error of the weights' own rounding, so they are int16,
// with a scale per 256 columns: still exact integer sums in int32 (256 · 32767 · 128 < 2^31),
// and an eighth of the f32 conversions that blocks of 32 would take.
inline constexpr int64_t kInt8ActivationBlock = 32;
inline constexpr int64_t kInt16ActivationBlock = 256;

[[nodiscard]] inline int32_t activation_levels(const Matrix& w) { return w.quant == Quant::Int8 ? 32767 : 127; }

// The block above, or its greatest common divisor with w's group, so that a block never
// straddles two weight scales (Euclid's algorithm written out: SIMD files include this).
[[nodiscard]] inline int64_t activation_block(const Matrix& w) {
  int64_t a = w.quant == Quant::Int8 ? kInt16ActivationBlock : kInt8ActivationBlock;
  if (w.group_size == w.cols) return a;
  for (int64_t b = w.group_size; b != 0;) {
    const int64_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

// From this many activation rows on, matmul takes one path whatever m is, so each row's
// result no longer depends on how many rows share the call (below it, small batches take
// faster paths that round differently). Callers that need batch-size-independent results
// pad their calls to at least this many rows.
inline constexpr int64_t kMinPackedRows = 16;

// Whether matmul over w computes each row of y the same way whatever m is, so that callers
// need not pad to kMinPackedRows for batch invariance: quantized weights (one kernel path for
// every m, exact integer dot products, the same per-row order of scaled sums).
[[nodiscard]] inline bool matmul_rows_independent(const Matrix& w) { return w.quant != Quant::None; }

// out[i, :] = table[ids[i], :] widened to f32.   out: [n_ids, table.cols]
void embedding_rows(const Matrix& table, const int32_t* ids, int64_t n_ids, float* out);

// y[i, :] = w ⊙ x[i, :] / sqrt(mean(x[i, :]²) + eps).   x, y: [m, n]; y may alias x.
void rms_norm(const float* x, int64_t m, int64_t n, const float* w, float eps, float* y);

// Gated RMSNorm of the Mamba2 mixer, per group (numerics §3.2):
// u = y ⊙ silu(z); out[c] = w[c] · u[c] / sqrt(mean over c's group of u² + eps),
// groups of n/n_groups contiguous channels.   y, z, out: [m, n] (row strides y_stride,
// z_stride, out_stride); out may alias y.
void gated_rms_norm(const float* y, int64_t y_stride, const float* z, int64_t z_stride, int64_t m,
                    int64_t n, int64_t n_groups, const float* w, float eps, float* out,
                    int64_t out_stride);

// SwiGLU: out[i] = silu(gate[i]) * up[i].   n elements; out may alias gate or up.
void swiglu(const float* gate, const float* up, int64_t n, float* out);

// dst[i] += src[i] for n elements (residual connections).
void add_inplace(float* dst, const float* src, int64_t n);

// Partial rotary embedding on every head of x, in place: channels [0, rotary_dim) of each
// head rotate with rotate-half pairs (c, c + rotary_dim/2) by angle
// pos * theta^(-2j/rotary_dim); channels [rotary_dim, head_dim) are unchanged.
// x: [n_tokens, n_heads, head_dim] with token row stride x_stride; positions: [n_tokens].
void rope(float* x, int64_t n_tokens, int64_t x_stride, int64_t n_heads, int64_t head_dim,
          int64_t rotary_dim, float theta, const int32_t* positions);

// Causal depthwise conv1d over time, then bias and SiLU, continuing from a window of the
// previous d_conv-1 raw inputs (updated in place to the last d_conv-1 inputs):
// out[t, c] = silu(bias[c] + sum_k w[c, k] · in[t-(d_conv-1)+k, c])
// in: [n_tokens, channels] (row stride in_stride); window: [d_conv-1, channels] (oldest
// first); w: [channels, d_conv]; bias: [channels] or nullptr; out: [n_tokens, channels]
// (row stride out_stride, must not alias in).
void causal_conv1d_silu(const float* in, int64_t in_stride, int64_t n_tokens, int64_t channels,
                        float* window, const float* w, const float* bias, int64_t d_conv,
                        float* out, int64_t out_stride);

// dt[t, h] = softplus(dt_raw[t, h] + dt_bias[h]).  dt_raw: [n_tokens, n_heads] (row stride
// raw_stride); dt: [n_tokens, n_heads] contiguous.
void softplus_bias(const float* dt_raw, int64_t raw_stride, int64_t n_tokens, int64_t n_heads,
                   const float* dt_bias, float* dt);

// The selective state-space scan of one sequence (numerics §3.2), per head h of group
// g(h) = h / (n_heads / n_groups):
//   S_h ← exp(dt[t,h]·A[h]) · S_h + dt[t,h] · x[t,h,:] ⊗ B[t,g,:]
//   y[t,h,:] = S_h · C[t,g,:] + D[h] · x[t,h,:]
struct SsmScanArgs {
  int64_t n_tokens = 0;
  int64_t n_heads = 0;   // mamba_n_heads
  int64_t head_dim = 0;  // mamba_d_head (P)
  int64_t n_groups = 0;  // mamba_n_groups (G)
  int64_t d_state = 0;   // mamba_d_state (N)
  const float* x = nullptr;  // [n_tokens, n_heads*head_dim], row stride x_stride
  int64_t x_stride = 0;
  const float* B = nullptr;  // [n_tokens, n_groups*d_state], row stride bc_stride
  const float* C = nullptr;  // [n_tokens, n_groups*d_state], row stride bc_stride
  int64_t bc_stride = 0;
  const float* dt = nullptr;  // [n_tokens, n_heads] contiguous (after softplus)
  const float* A = nullptr;   // [n_heads] (= -exp(A_log))
  const float* D = nullptr;   // [n_heads]
  float* state = nullptr;     // [n_heads, head_dim, d_state], read and updated in place
  float* y = nullptr;         // [n_tokens, n_heads*head_dim], row stride y_stride
  int64_t y_stride = 0;
};

// Prompt path: the chunked SSD form — within each chunk of chunk_len tokens the scan is
// regrouped into matrix products, and the state passes between chunks. Same result as
// ssm_scan_recurrent up to rounding.
void ssd_chunk_scan(const SsmScanArgs& args, int64_t chunk_len, ThreadPool& pool);

// Decode path: the recurrence one token at a time (used for n_tokens == 1).
void ssm_scan_recurrent(const SsmScanArgs& args, ThreadPool& pool);

// Causal attention of one sequence's new queries over its cached keys/values, GQA-aware:
// query head h reads kv head h / (n_heads / n_kv_heads). Query t sits at absolute
// position first_pos + t and attends to positions 0 .. first_pos + t. The cache holds
// n_ctx = first_pos + n_tokens positions (the new ones already written), in blocks of
// block_len positions; block b holds positions [b·block_len, (b+1)·block_len), each a
// [block_len, n_kv_heads, head_dim] array of kv_dtype (F32 or BF16), or for I8 the int8
// block layout below.
//
// An int8 KV block (kv_dtype I8), symmetric per (position, kv head) row:
//   bytes [0, int8_kv_scales_offset)   values [block_len, n_kv_heads, head_dim] int8
//   then                               scales [block_len, n_kv_heads] f32, scale = max|row|/127
// The values' bytes are rounded up to a multiple of 4 so that the scales are aligned. Row
// (p, h) stands for scales[p, h] · values[p, h, :].
[[nodiscard]] constexpr int64_t int8_kv_scales_offset(int64_t block_len, int64_t n_kv_heads, int64_t head_dim) {
  return (block_len * n_kv_heads * head_dim + 3) / 4 * 4;
}
// Bytes of one block's K (or V) in kv_dtype F32, BF16 or I8.
[[nodiscard]] constexpr int64_t kv_block_bytes(DType kv_dtype, int64_t block_len, int64_t n_kv_heads,
                                               int64_t head_dim) {
  if (kv_dtype == DType::I8) {
    return int8_kv_scales_offset(block_len, n_kv_heads, head_dim) + block_len * n_kv_heads * int64_t(sizeof(float));
  }
  return block_len * n_kv_heads * head_dim * int64_t(dtype_size(kv_dtype));
}

struct AttentionArgs {
  int64_t n_tokens = 0;
  int64_t first_pos = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  float scale = 0;  // 1/sqrt(head_dim)
  const float* q = nullptr;  // [n_tokens, n_heads*head_dim] (rotated), row stride q_stride
  int64_t q_stride = 0;
  const void* const* k_blocks = nullptr;  // [n_blocks] pointers
  const void* const* v_blocks = nullptr;  // [n_blocks] pointers
  int64_t block_len = 0;
  DType kv_dtype = DType::F32;  // F32, BF16 or I8
  float* out = nullptr;  // [n_tokens, n_heads*head_dim], row stride out_stride
  int64_t out_stride = 0;
};
void attention(const AttentionArgs& args, ThreadPool& pool);

}  // namespace bamba::kernels
