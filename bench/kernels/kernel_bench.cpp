// Single-kernel timings at bamba-1b shapes, 2 threads by default (BAMBA_THREADS overrides):
//   matmul/<dtype>/<m>: the in_proj matrix (8512 × 2048) times m activation rows — m = 1 is
//     decoding one sequence, 8 and 16 batched decoding, 512 a prompt chunk. `bytes_per_second`
//     counts the weight bytes read once per call, so decoding shapes compare with the read
//     bandwidth of `bamba bench --roofline`.
//   ssd_chunk_scan/<n_tokens>: the prompt scan of one Mamba2 layer (64 heads × 64, d_state 128).
// Run: <build>/bamba_kernel_bench [--benchmark_filter=REGEX]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "base/half.h"
#include "base/thread_pool.h"
#include "kernels/ops.h"

namespace bamba::kernels {
namespace {

constexpr int64_t kRows = 8512;  // bamba-1b in_proj: 2·d_inner + 2·G·N + heads
constexpr int64_t kCols = 2048;  // hidden size

ThreadPool& pool() {
  static ThreadPool p([] {
    const char* env = std::getenv("BAMBA_THREADS");
    return env ? std::atoi(env) : 2;
  }());
  return p;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = uint8_t(rng());
  return v;
}

// Copies of one weight matrix kind with random contents, at least 128 MiB together, so that
// cycling through them streams from memory as decoding does (one copy would sit in L3).
struct TestMatrices {
  std::vector<uint16_t> bf16;
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  std::vector<Matrix> copies;
  int64_t weight_bytes = 0;  // of one copy

  TestMatrices(Quant quant, int64_t group_size) {
    constexpr int64_t kMinTotalBytes = int64_t(128) << 20;
    Matrix m;
    m.rows = kRows;
    m.cols = kCols;
    m.quant = quant;
    const int64_t n = kRows * kCols;
    const int64_t value_bytes = quant == Quant::None ? n * 2 : quant == Quant::Int4 ? n / 2 : n;  // of one copy
    const int64_t n_scales = quant == Quant::None ? 0 : n / group_size;                         // of one copy
    weight_bytes = value_bytes + n_scales * int64_t(sizeof(float));
    const int64_t n_copies = (kMinTotalBytes + weight_bytes - 1) / weight_bytes;
    if (quant == Quant::None) {
      const std::vector<float> w = random_floats(size_t(n * n_copies), 1, -0.05f, 0.05f);
      bf16.resize(w.size());
      for (size_t i = 0; i < w.size(); ++i) bf16[i] = f32_to_bf16(w[i]);
      m.dtype = DType::BF16;
    } else {
      bytes = random_bytes(size_t(value_bytes * n_copies), 2);
      scales = random_floats(size_t(n_scales * n_copies), 3, 0.001f, 0.01f);
      m.dtype = quant == Quant::Int4 ? DType::U8 : DType::I8;
      m.group_size = group_size;
      m.layout = QuantLayout::RowBlocks;  // as loaded models hold them; random bytes fit any layout
    }
    for (int64_t c = 0; c < n_copies; ++c) {
      if (quant == Quant::None) {
        m.data = bf16.data() + c * n;
      } else {
        m.data = bytes.data() + c * value_bytes;
        m.scales = scales.data() + c * n_scales;
      }
      copies.push_back(m);
    }
  }
};

void run_matmul(benchmark::State& state, Quant quant, int64_t group_size, MathMode mode = MathMode::BF16) {
  const int64_t m = state.range(0);
  const TestMatrices w(quant, group_size);
  const std::vector<float> x = random_floats(size_t(m * kCols), 4);
  std::vector<float> y(size_t(m * kRows));
  size_t next = 0;
  for (auto _ : state) {
    matmul(x.data(), m, kCols, w.copies[next], y.data(), kRows, mode, pool());
    next = (next + 1) % w.copies.size();
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * w.weight_bytes);
  state.counters["GFLOP/s"] = benchmark::Counter(double(2 * m * kRows * kCols) * double(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}

void matmul_bf16(benchmark::State& state) { run_matmul(state, Quant::None, 0); }
// --precision f32: bf16 weights widened exactly, f32 FMA.
void matmul_bf16_exact(benchmark::State& state) { run_matmul(state, Quant::None, 0, MathMode::F32); }
void matmul_int8(benchmark::State& state) { run_matmul(state, Quant::Int8, kCols); }
void matmul_q4_g64(benchmark::State& state) { run_matmul(state, Quant::Int4, 64); }

void ssd_chunk_scan_layer(benchmark::State& state) {
  const int64_t n_tokens = state.range(0), heads = 64, head_dim = 64, d_state = 128;
  const std::vector<float> x = random_floats(size_t(n_tokens * heads * head_dim), 5);
  const std::vector<float> bc = random_floats(size_t(n_tokens * 2 * d_state), 6);
  const std::vector<float> dt = random_floats(size_t(n_tokens * heads), 7, 0.001f, 0.1f);
  const std::vector<float> A = random_floats(size_t(heads), 8, -8.0f, -1.0f);
  const std::vector<float> D = random_floats(size_t(heads), 9);
  std::vector<float> ssm_state(size_t(heads * head_dim * d_state));
  std::vector<float> y(x.size());
  SsmScanArgs a;
  a.n_tokens = n_tokens;
  a.n_heads = heads;
  a.head_dim = head_dim;
  a.n_groups = 1;
  a.d_state = d_state;
  a.x = x.data();
  a.x_stride = heads * head_dim;
  a.B = bc.data();
  a.C = bc.data() + d_state;
  a.bc_stride = 2 * d_state;
  a.dt = dt.data();
  a.A = A.data();
  a.D = D.data();
  a.state = ssm_state.data();
  a.y = y.data();
  a.y_stride = heads * head_dim;
  for (auto _ : state) {
    std::fill(ssm_state.begin(), ssm_state.end(), 0.0f);
    ssd_chunk_scan(a, 256, pool());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * n_tokens);
}

BENCHMARK(matmul_bf16)->Arg(1)->Arg(4)->Arg(8)->Arg(16)->Arg(512)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(matmul_bf16_exact)->Arg(1)->Arg(16)->Arg(512)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(matmul_int8)->Arg(1)->Arg(8)->Arg(16)->Arg(512)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(matmul_q4_g64)->Arg(1)->Arg(8)->Arg(16)->Arg(512)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(ssd_chunk_scan_layer)->Arg(512)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bamba::kernels

BENCHMARK_MAIN();
