// Dispatch: the scalar level always exists, levels can be switched, bad names are refused,
// and argument checks throw bamba::Error.
#include "kernels/dispatch.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/cpu_features.h"

#include "base/error.h"
#include "kernels/ops.h"

namespace bamba::kernels {
namespace {

TEST(Dispatch, ScalarAlwaysAvailable) {
  EXPECT_TRUE(isa_available(Isa::Scalar));
  ASSERT_FALSE(available_isas().empty());
  EXPECT_EQ(available_isas().front(), Isa::Scalar);
}

TEST(Dispatch, CpuLevelsAreCompiledIn) {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  EXPECT_EQ(isa_available(Isa::Avx2), f.avx2);
  EXPECT_EQ(isa_available(Isa::Avx512), f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq);
  EXPECT_EQ(isa_available(Isa::Avx512Bf16), isa_available(Isa::Avx512) && f.avx512_bf16 && f.avx512_vnni);
  EXPECT_EQ(isa_available(Isa::Amx), isa_available(Isa::Avx512Bf16) && f.amx_tile && f.amx_bf16 && f.amx_int8);
#endif
  if (std::getenv("BAMBA_ISA") == nullptr) {
    EXPECT_EQ(active_isa(), available_isas().back());
  }
}

TEST(Dispatch, NamesRoundTrip) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16, Isa::Amx}) EXPECT_EQ(parse_isa(isa_name(isa)), isa);
  EXPECT_FALSE(parse_isa("sse9").has_value());
}

TEST(Dispatch, SwitchesLevels) {
  const Isa saved = active_isa();
  for (Isa isa : available_isas()) {
    set_active_isa(isa);
    EXPECT_EQ(active_isa(), isa);
  }
  set_active_isa(saved);
}

TEST(Dispatch, RejectsBadArguments) {
  ThreadPool pool(1);
  const int32_t raw[4] = {1, 2, 3, 4};
  float x[2] = {1, 1}, y[2];
  EXPECT_THROW(matmul(x, 1, 2, Matrix{raw, DType::I32, 2, 2}, y, 2, MathMode::F32, pool), Error);
  const float table[4] = {1, 2, 3, 4};
  const int32_t bad_id = 2;
  EXPECT_THROW(embedding_rows(Matrix{table, DType::F32, 2, 2}, &bad_id, 1, y), Error);
  EXPECT_THROW(rope(x, 1, 2, 1, 2, 3, 10000.0f, &bad_id), Error);
  SsmScanArgs ssm;
  ssm.n_heads = 3;
  ssm.n_groups = 2;
  EXPECT_THROW(ssd_chunk_scan(ssm, 16, pool), Error);
  AttentionArgs attn;
  attn.n_heads = 4;
  attn.n_kv_heads = 3;
  EXPECT_THROW(attention(attn, pool), Error);
}

}  // namespace
}  // namespace bamba::kernels
