// Models with random weights of a real shape, built in memory: `bamba bench --synthetic`
// measures speed on any shape without checkpoint files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "base/dtype.h"
#include "base/thread_pool.h"
#include "model/model.h"

namespace bamba {

// A model of the family named by config_json's model_type whose matrices are random
// `weight_dtype` (F32 or BF16) values scaled like an initialised network (activations stay
// near unit size), with small vectors in f32. With a quantization_config in config_json
// (int8 / int4, model/quantize.h make_quant_config) the covered weights are drawn in
// `weight_dtype` and kept only quantized. `source` names the config in errors.
[[nodiscard]] std::unique_ptr<Model> make_synthetic_model(const nlohmann::json& config_json, const std::string& source,
                                                          DType weight_dtype, const LoadOptions& options,
                                                          ThreadPool& pool, uint64_t seed = 1);

}  // namespace bamba
