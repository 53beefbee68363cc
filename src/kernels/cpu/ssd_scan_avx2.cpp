// Chunked SSD scan for AVX2: the algorithm of ssd_scan_simd.inc on 8-lane vectors.
#include "kernels/cpu/vec_avx2.h"
#define BAMBA_VARIANT avx2
#include "kernels/cpu/ssd_scan_simd.inc"
