// Attention for AVX-512: the flash-style algorithm of attention_simd.inc on 16-lane vectors.
#include "kernels/cpu/vec_avx512.h"
#define BAMBA_VARIANT avx512
#include "kernels/cpu/attention_simd.inc"
