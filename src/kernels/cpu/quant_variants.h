// The SIMD variants of the quantized-weight ops (Quant::Int8 / Quant::Int4 matrices), reached
// only through dispatch.cpp after the CPU check, like the variants of variants.h.
#pragma once

#include "kernels/ops.h"

namespace bamba::kernels::avx2 {

// AVX2, for RowBlocks matrices in BF16 mode: activations quantized per block (int16 beside
// Int8 weights, int8 beside Int4), exact integer dot products with vpmaddwd / vpmaddubsw.
// Everything else goes to the reference.
decltype(kernels::matmul) matmul_quantized;

}  // namespace bamba::kernels::avx2

namespace bamba::kernels::avx512vnni {

// AVX-512 F/BW/VL/DQ + VNNI, for RowBlocks matrices: in BF16 mode activations quantized per
// block and vpdpwssd (Int8 weights, int16 activations) / vpdpbusd (Int4, int8) dot products,
// in F32 mode weights widened in registers and FMA'd with the exact activations. RowMajor
// matrices, and weight groups that activation blocks do not tile (BF16 mode), go to the
// reference.
decltype(kernels::matmul) matmul_quantized;

}  // namespace bamba::kernels::avx512vnni
