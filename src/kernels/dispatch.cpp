// Binds every op of ops.h to one variant through a table chosen once at startup (the best
// level the CPU supports, or BAMBA_ISA), and checks the arguments every variant relies on.
#include "kernels/dispatch.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "base/cpu_features.h"
#include "base/error.h"
#include "kernels/cpu/quant_variants.h"
#include "kernels/cpu/variants.h"
#include "kernels/op_profile.h"
#include "kernels/ops.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

struct KernelTable {
  Isa isa;
  decltype(&reference::matmul) matmul;
  decltype(&reference::embedding_rows) embedding_rows;
  decltype(&reference::rms_norm) rms_norm;
  decltype(&reference::gated_rms_norm) gated_rms_norm;
  decltype(&reference::swiglu) swiglu;
  decltype(&reference::add_inplace) add_inplace;
  decltype(&reference::rope) rope;
  decltype(&reference::causal_conv1d_silu) causal_conv1d_silu;
  decltype(&reference::softplus_bias) softplus_bias;
  decltype(&reference::ssd_chunk_scan) ssd_chunk_scan;
  decltype(&reference::ssm_scan_recurrent) ssm_scan_recurrent;
  decltype(&reference::attention) attention;
  decltype(&reference::matmul_quantized) matmul_quantized;
};

constexpr KernelTable kScalarTable{
    Isa::Scalar,           reference::matmul,          reference::embedding_rows,
    reference::rms_norm,   reference::gated_rms_norm,  reference::swiglu,
    reference::add_inplace, reference::rope,           reference::causal_conv1d_silu,
    reference::softplus_bias, reference::ssd_chunk_scan, reference::ssm_scan_recurrent,
    reference::attention,     reference::matmul_quantized};

#if defined(BAMBA_KERNELS_X86)
constexpr KernelTable kAvx2Table = [] {
  KernelTable t = kScalarTable;
  t.isa = Isa::Avx2;
  t.matmul = avx2::matmul;
  t.attention = avx2::attention;
  t.ssd_chunk_scan = avx2::ssd_chunk_scan;
  t.embedding_rows = avx2::embedding_rows;
  t.rms_norm = avx2::rms_norm;
  t.gated_rms_norm = avx2::gated_rms_norm;
  t.swiglu = avx2::swiglu;
  t.add_inplace = avx2::add_inplace;
  t.rope = avx2::rope;
  t.causal_conv1d_silu = avx2::causal_conv1d_silu;
  t.matmul_quantized = avx2::matmul_quantized;
  return t;
}();

constexpr KernelTable kAvx512Table = [] {
  KernelTable t = kScalarTable;
  t.isa = Isa::Avx512;
  t.matmul = avx512::matmul;
  t.attention = avx512::attention;
  t.ssd_chunk_scan = avx512::ssd_chunk_scan;
  t.ssm_scan_recurrent = avx512::ssm_scan_recurrent;
  t.embedding_rows = avx512::embedding_rows;
  t.rms_norm = avx512::rms_norm;
  t.gated_rms_norm = avx512::gated_rms_norm;
  t.swiglu = avx512::swiglu;
  t.add_inplace = avx512::add_inplace;
  t.rope = avx512::rope;
  t.causal_conv1d_silu = avx512::causal_conv1d_silu;
  t.matmul_quantized = avx2::matmul_quantized;  // AVX-512 without VNNI
  return t;
}();

// The same level on CPUs with AVX512-VNNI but not BF16 (Cascade Lake, Ice Lake): the integer
// dot products of quantized weights need only VNNI.
constexpr KernelTable kAvx512VnniTable = [] {
  KernelTable t = kAvx512Table;
  t.matmul_quantized = avx512vnni::matmul_quantized;
  return t;
}();

constexpr KernelTable kAvx512Bf16Table = [] {
  KernelTable t = kAvx512Table;
  t.isa = Isa::Avx512Bf16;
  t.matmul = avx512bf16::matmul;
  t.matmul_quantized = avx512vnni::matmul_quantized;
  return t;
}();

constexpr KernelTable kAmxTable = [] {
  KernelTable t = kAvx512Bf16Table;
  t.isa = Isa::Amx;
  t.matmul = amx::matmul;
  return t;
}();
#endif

const KernelTable* table_of(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return &kScalarTable;
#if defined(BAMBA_KERNELS_X86)
    case Isa::Avx2: return &kAvx2Table;
    case Isa::Avx512: return cpu_features().avx512_vnni ? &kAvx512VnniTable : &kAvx512Table;
    case Isa::Avx512Bf16: return &kAvx512Bf16Table;
    case Isa::Amx: return &kAmxTable;
#else
    default: return nullptr;
#endif
  }
  return nullptr;
}

bool cpu_supports(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return f.avx2 && f.fma && f.f16c;
    case Isa::Avx512: return f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
    case Isa::Avx512Bf16: return cpu_supports(Isa::Avx512) && f.avx512_bf16 && f.avx512_vnni;
    case Isa::Amx: return cpu_supports(Isa::Avx512Bf16) && f.amx_tile && f.amx_bf16 && f.amx_int8;
  }
  return false;
}

Isa initial_isa() {
  if (const char* forced = std::getenv("BAMBA_ISA"); forced && *forced) {
    const std::optional<Isa> isa = parse_isa(forced);
    if (!isa) fail("BAMBA_ISA: unknown value '", forced, "' (expected scalar, avx2, avx512, avx512bf16 or amx)");
    if (!isa_available(*isa)) fail("BAMBA_ISA=", forced, ": not supported by this CPU or build");
    return *isa;
  }
  for (Isa isa : {Isa::Amx, Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2}) {
    if (isa_available(isa)) return isa;
  }
  return Isa::Scalar;
}

std::atomic<const KernelTable*> g_active{nullptr};

constexpr Isa kAllIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16, Isa::Amx};

const KernelTable& active() {
  const KernelTable* table = g_active.load(std::memory_order_acquire);
  if (table) return *table;
  static const KernelTable* const initial = table_of(initial_isa());
  const KernelTable* expected = nullptr;
  g_active.compare_exchange_strong(expected, initial);
  return *g_active.load(std::memory_order_acquire);
}

void check_float_weight(const Matrix& w, const char* op) {
  if (w.quant != Quant::None) {
    const DType storage = w.quant == Quant::Int8 ? DType::I8 : DType::U8;
    if (w.dtype != storage || w.scales == nullptr || w.group_size <= 0 || w.cols % w.group_size != 0 ||
        (w.quant == Quant::Int4 && w.group_size % 2 != 0)) {
      fail(op, ": quantized weight [", w.rows, ", ", w.cols, "] needs ", dtype_name(storage),
           " storage, scales and a group size dividing its columns (found ", dtype_name(w.dtype), ", group ",
           w.group_size, ")");
    }
    return;
  }
  if (w.dtype != DType::F32 && w.dtype != DType::F16 && w.dtype != DType::BF16) {
    fail(op, ": weight dtype ", dtype_name(w.dtype), " is not supported (expected F32, F16 or BF16)");
  }
}

// Bytes a matmul streams from the weight matrix, scales included.
double weight_bytes(const Matrix& w) {
  const double n = double(w.rows) * double(w.cols);
  if (w.quant == Quant::None) return n * double(dtype_size(w.dtype));
  return n * (w.quant == Quant::Int8 ? 1.0 : 0.5) + n / double(w.group_size) * 4.0;
}

void check_divides(int64_t whole, int64_t part, const char* op, const char* what) {
  if (part <= 0 || whole % part != 0) fail(op, ": ", what, " (", whole, " by ", part, ")");
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Avx512Bf16: return "avx512bf16";
    case Isa::Amx: return "amx";
  }
  return "?";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : kAllIsas) {
    if (isa_name(isa) == name) return isa;
  }
  return std::nullopt;
}

bool isa_available(Isa isa) { return table_of(isa) != nullptr && cpu_supports(isa); }

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : kAllIsas) {
    if (isa_available(isa)) out.push_back(isa);
  }
  return out;
}

Isa active_isa() { return active().isa; }

void set_active_isa(Isa isa) {
  if (!isa_available(isa)) fail("kernels: ISA ", isa_name(isa), " is not supported by this CPU or build");
  g_active.store(table_of(isa), std::memory_order_release);
}

void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
            MathMode mode, ThreadPool& pool) {
  check_float_weight(w, "matmul");
  if (m <= 0 || w.rows <= 0) return;
  const OpTimer timer(OpClass::Gemm, 2.0 * double(m) * double(w.rows) * double(w.cols), weight_bytes(w));
  if (w.quant != Quant::None) return active().matmul_quantized(x, m, x_stride, w, y, y_stride, mode, pool);
  active().matmul(x, m, x_stride, w, y, y_stride, mode, pool);
}

void embedding_rows(const Matrix& table, const int32_t* ids, int64_t n_ids, float* out) {
  check_float_weight(table, "embedding_rows");
  for (int64_t i = 0; i < n_ids; ++i) {
    if (ids[i] < 0 || ids[i] >= table.rows) {
      fail("embedding_rows: token id ", ids[i], " out of range [0, ", table.rows, ")");
    }
  }
  const OpTimer timer(OpClass::Elementwise);
  if (table.quant != Quant::None) return reference::embedding_rows_quantized(table, ids, n_ids, out);
  active().embedding_rows(table, ids, n_ids, out);
}

void rms_norm(const float* x, int64_t m, int64_t n, const float* w, float eps, float* y) {
  const OpTimer timer(OpClass::Elementwise);
  active().rms_norm(x, m, n, w, eps, y);
}

void gated_rms_norm(const float* y, int64_t y_stride, const float* z, int64_t z_stride, int64_t m,
                    int64_t n, int64_t n_groups, const float* w, float eps, float* out,
                    int64_t out_stride) {
  check_divides(n, n_groups, "gated_rms_norm", "channels must split evenly into groups");
  const OpTimer timer(OpClass::Elementwise);
  active().gated_rms_norm(y, y_stride, z, z_stride, m, n, n_groups, w, eps, out, out_stride);
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
  const OpTimer timer(OpClass::Elementwise);
  active().swiglu(gate, up, n, out);
}

void add_inplace(float* dst, const float* src, int64_t n) {
  const OpTimer timer(OpClass::Elementwise);
  active().add_inplace(dst, src, n);
}

void rope(float* x, int64_t n_tokens, int64_t x_stride, int64_t n_heads, int64_t head_dim,
          int64_t rotary_dim, float theta, const int32_t* positions) {
  if (rotary_dim % 2 != 0 || rotary_dim < 0 || rotary_dim > head_dim) {
    fail("rope: rotary_dim ", rotary_dim, " must be even and within head_dim ", head_dim);
  }
  const OpTimer timer(OpClass::Elementwise);
  active().rope(x, n_tokens, x_stride, n_heads, head_dim, rotary_dim, theta, positions);
}

void causal_conv1d_silu(const float* in, int64_t in_stride, int64_t n_tokens, int64_t channels,
                        float* window, const float* w, const float* bias, int64_t d_conv,
                        float* out, int64_t out_stride) {
  if (d_conv < 1) fail("causal_conv1d_silu: d_conv must be at least 1, got ", d_conv);
  const OpTimer timer(OpClass::Conv);
  active().causal_conv1d_silu(in, in_stride, n_tokens, channels, window, w, bias, d_conv, out, out_stride);
}

void softplus_bias(const float* dt_raw, int64_t raw_stride, int64_t n_tokens, int64_t n_heads,
                   const float* dt_bias, float* dt) {
  const OpTimer timer(OpClass::Elementwise);
  active().softplus_bias(dt_raw, raw_stride, n_tokens, n_heads, dt_bias, dt);
}

void ssd_chunk_scan(const SsmScanArgs& args, int64_t chunk_len, ThreadPool& pool) {
  check_divides(args.n_heads, args.n_groups, "ssd_chunk_scan", "heads must split evenly into groups");
  if (chunk_len < 1) fail("ssd_chunk_scan: chunk_len must be at least 1, got ", chunk_len);
  if (args.n_tokens <= 0) return;
  const OpTimer timer(OpClass::Scan);
  active().ssd_chunk_scan(args, chunk_len, pool);
}

void ssm_scan_recurrent(const SsmScanArgs& args, ThreadPool& pool) {
  check_divides(args.n_heads, args.n_groups, "ssm_scan_recurrent", "heads must split evenly into groups");
  const OpTimer timer(OpClass::Scan);
  active().ssm_scan_recurrent(args, pool);
}

void attention(const AttentionArgs& args, ThreadPool& pool) {
  check_divides(args.n_heads, args.n_kv_heads, "attention", "query heads must split evenly over kv heads");
  if (args.kv_dtype != DType::F32 && args.kv_dtype != DType::BF16 && args.kv_dtype != DType::I8) {
    fail("attention: kv dtype ", dtype_name(args.kv_dtype), " is not supported (expected F32, BF16 or I8)");
  }
  if (args.block_len < 1) fail("attention: block_len must be at least 1, got ", args.block_len);
  if (args.n_tokens <= 0) return;
  const OpTimer timer(OpClass::Attention);
  active().attention(args, pool);
}

}  // namespace bamba::kernels
