// embedding_rows: rows copied exactly from F32, F16 and BF16 tables.
#include <gtest/gtest.h>

#include "kernel_test_util.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

TEST(EmbeddingRows, WidensRowsExactly) {
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    const auto table = testing::make_matrix(dtype, 11, 19, 5);
    const std::vector<int32_t> ids = {3, 0, 10, 3};
    testing::for_each_isa([&](Isa) {
      std::vector<float> out(ids.size() * 19);
      embedding_rows(table.view, ids.data(), int64_t(ids.size()), out.data());
      for (size_t i = 0; i < ids.size(); ++i) {
        for (int64_t c = 0; c < 19; ++c) ASSERT_EQ(out[i * 19 + c], table.values[ids[i] * 19 + c]);
      }
    });
  }
}

}  // namespace
}  // namespace bamba::kernels
