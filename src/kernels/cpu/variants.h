// The SIMD variants in this folder, one namespace per instruction-set level. Each is
// compiled with its own target flags and reached only through dispatch.cpp, after the CPU
// check; an op without a variant at some level uses the reference there. Each op is declared
// with the type of its ops.h counterpart, so the signatures live in one place.
#pragma once

#include "kernels/ops.h"

namespace bamba::kernels {

namespace avx2 {
decltype(kernels::matmul) matmul;
decltype(kernels::attention) attention;
decltype(kernels::ssd_chunk_scan) ssd_chunk_scan;
decltype(kernels::embedding_rows) embedding_rows;
decltype(kernels::rms_norm) rms_norm;
decltype(kernels::gated_rms_norm) gated_rms_norm;
decltype(kernels::swiglu) swiglu;
decltype(kernels::add_inplace) add_inplace;
decltype(kernels::rope) rope;
decltype(kernels::causal_conv1d_silu) causal_conv1d_silu;
}  // namespace avx2

namespace avx512 {
decltype(kernels::matmul) matmul;
decltype(kernels::attention) attention;
decltype(kernels::ssd_chunk_scan) ssd_chunk_scan;
decltype(kernels::ssm_scan_recurrent) ssm_scan_recurrent;
decltype(kernels::embedding_rows) embedding_rows;
decltype(kernels::rms_norm) rms_norm;
decltype(kernels::gated_rms_norm) gated_rms_norm;
decltype(kernels::swiglu) swiglu;
decltype(kernels::add_inplace) add_inplace;
decltype(kernels::rope) rope;
decltype(kernels::causal_conv1d_silu) causal_conv1d_silu;
}  // namespace avx512

// AVX-512 plus AVX512-BF16 (and VNNI for the int8 peak loop).
namespace avx512bf16 {
decltype(kernels::matmul) matmul;
// Register-only loops for the roofline: run `iterations`, return the operations done.
double peak_loop_bf16(int64_t iterations);
double peak_loop_int8(int64_t iterations);
}  // namespace avx512bf16

// AVX512-BF16 plus AMX tiles (the calling thread must have the kernel's tile permission,
// which cpu_features() requests).
namespace amx {
decltype(kernels::matmul) matmul;
double peak_loop_bf16(int64_t iterations);
double peak_loop_int8(int64_t iterations);
}  // namespace amx

}  // namespace bamba::kernels
