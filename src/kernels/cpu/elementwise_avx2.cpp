// The elementwise ops for AVX2 + FMA: 8-lane vectors over elementwise_simd.inc.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec_avx2.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels::avx2 {
namespace {

#include "kernels/cpu/elementwise_simd.inc"

}  // namespace bamba::kernels::avx2
