// Register-only loops of the AMX dot-product instructions, for the roofline of `bamba
// bench`: four C tiles fed by two A and two B tiles that never reload, so the rate is the
// tile unit's peak. The config is loaded with an explicit asm (see matmul_amx.cpp).
#include <immintrin.h>

#include "kernels/cpu/variants.h"

namespace bamba::kernels::amx {
namespace {

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

void configure_and_fill() {
  TileConfig config{};
  config.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = 16;
    config.colsb[t] = 64;
  }
  asm volatile("ldtilecfg %0" ::"m"(config) : "memory");
  alignas(64) static const uint8_t kOnes[16 * 64] = {1};
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, kOnes, 64);
  _tile_loadd(5, kOnes, 64);
  _tile_loadd(6, kOnes, 64);
  _tile_loadd(7, kOnes, 64);
}

}  // namespace

double peak_loop_bf16(int64_t iterations) {
  configure_and_fill();
  for (int64_t i = 0; i < iterations; ++i) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_release();
  return double(iterations) * 4 * 16 * 16 * 32 * 2;  // 16×16 outputs × 32 products, multiply + add
}

double peak_loop_int8(int64_t iterations) {
  configure_and_fill();
  for (int64_t i = 0; i < iterations; ++i) {
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    _tile_dpbusd(2, 5, 6);
    _tile_dpbusd(3, 5, 7);
  }
  _tile_release();
  return double(iterations) * 4 * 16 * 16 * 64 * 2;  // 16×16 outputs × 64 products, multiply + add
}

}  // namespace bamba::kernels::amx
