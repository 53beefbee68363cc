// CpuFeatures: detection is stable and self-consistent (the implied features are present).
#include "base/cpu_features.h"

#include <gtest/gtest.h>

namespace bamba {
namespace {

TEST(CpuFeatures, DetectedOnce) { EXPECT_EQ(&cpu_features(), &cpu_features()); }

TEST(CpuFeatures, ImpliedFeaturesPresent) {
  const CpuFeatures& f = cpu_features();
  EXPECT_TRUE(!f.avx2 || (f.fma && f.f16c));
  for (bool sub : {f.avx512bw, f.avx512vl, f.avx512dq, f.avx512_bf16, f.avx512_vnni}) {
    EXPECT_TRUE(!sub || f.avx512f);
  }
  EXPECT_TRUE(!(f.amx_bf16 || f.amx_int8) || f.amx_tile);
}

TEST(CpuFeatures, ToStringNamesPresentFeatures) {
  const CpuFeatures& f = cpu_features();
  const std::string names = f.to_string();
  EXPECT_EQ(f.avx2, names.find("avx2") != std::string::npos);
  EXPECT_EQ(f.avx512f, names.find("avx512f") != std::string::npos);
  EXPECT_EQ(f.amx_tile, names.find("amx_tile") != std::string::npos);
}

}  // namespace
}  // namespace bamba
