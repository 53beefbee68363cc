// Chunked SSD scan for AVX-512: the algorithm of ssd_scan_simd.inc on 16-lane vectors.
#include "kernels/cpu/vec_avx512.h"
#define BAMBA_VARIANT avx512
#include "kernels/cpu/ssd_scan_simd.inc"
