// Attention for AVX2: the flash-style algorithm of attention_simd.inc on 8-lane vectors.
#include "kernels/cpu/vec_avx2.h"
#define BAMBA_VARIANT avx2
#include "kernels/cpu/attention_simd.inc"
