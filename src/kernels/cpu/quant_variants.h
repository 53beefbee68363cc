// The SIMD variants of the quantized-weight ops (Quant::Int8 / Quant::Int4 matrices), reached
// only through dispatch.cpp after the CPU check, like the variants of variants.h.
#pragma once

#include "kernels/ops.h"

namespace bamba::kernels::avx512vnni {

// AVX-512 F/BW/VL/DQ + VNNI. BF16 mode: activations quantized per row to int8, vpdpbusd dot
// products. F32 mode: Int8 weights widened in registers and FMA'd with f32 activations.
// Shapes this variant does not cover (group sizes that are not multiples of 64, Int4 in F32
// mode) go to the reference.
decltype(kernels::matmul) matmul_quantized;

}  // namespace bamba::kernels::avx512vnni
