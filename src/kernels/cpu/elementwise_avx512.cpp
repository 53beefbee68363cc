// The elementwise ops for AVX-512: 16-lane vectors over elementwise_simd.inc.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec_avx512.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels::avx512 {
namespace {

#include "kernels/cpu/elementwise_simd.inc"

}  // namespace bamba::kernels::avx512
