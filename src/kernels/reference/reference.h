// The scalar reference of every op in kernels/ops.h: same signatures and contracts, plain
// loops and f32 math. It is the executable specification that every fast variant is tested
// against, and the variant dispatch.cpp uses when no SIMD one exists.
#pragma once

#include "kernels/ops.h"

namespace bamba::kernels::reference {

// Each op declared with the type of its ops.h counterpart, so the signatures live in one place.
decltype(kernels::matmul) matmul;
decltype(kernels::embedding_rows) embedding_rows;
decltype(kernels::rms_norm) rms_norm;
decltype(kernels::gated_rms_norm) gated_rms_norm;
decltype(kernels::swiglu) swiglu;
decltype(kernels::add_inplace) add_inplace;
decltype(kernels::rope) rope;
decltype(kernels::causal_conv1d_silu) causal_conv1d_silu;
decltype(kernels::softplus_bias) softplus_bias;
decltype(kernels::ssd_chunk_scan) ssd_chunk_scan;
decltype(kernels::ssm_scan_recurrent) ssm_scan_recurrent;
decltype(kernels::attention) attention;
// Matrices with w.quant != Quant::None (quant_matmul.cpp).
decltype(kernels::matmul) matmul_quantized;
decltype(kernels::embedding_rows) embedding_rows_quantized;

}  // namespace bamba::kernels::reference
