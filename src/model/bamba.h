// The Bamba family (HF BambaForCausalLM): Mamba2 layers interleaved with attention layers,
// each followed by a SwiGLU MLP (numerics §3).
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/attention.h"
#include "model/mamba2_mixer.h"
#include "model/mlp.h"
#include "model/model.h"
#include "model/weights.h"

namespace bamba {

class BambaModel final : public Model {
 public:
  BambaModel(ModelConfig config, BambaWeights weights, const LoadOptions& options);

  void forward(const Batch& batch, StateCache& cache, float* logits, ThreadPool& pool) override;
  [[nodiscard]] bool rows_independent() const override { return rows_independent_; }
  [[nodiscard]] std::string matrix_name(const kernels::Matrix& matrix) const override;

 private:
  // Errors for a batch this model or cache cannot run; nothing has changed when it throws.
  void validate(const Batch& batch, const StateCache& cache) const;

  BambaWeights weights_;
  bool rows_independent_ = false;
  LoadOptions options_;
  // Scratch reused across calls, sized by the largest batch so far.
  std::vector<int32_t> positions_;  // [T]
  std::vector<float> hidden_;       // [T, H] residual stream  layers.{i}.out
  std::vector<float> normed_;       // [T, H] norm output      layers.{i}.input_norm / .pre_ff_norm
  std::vector<float> block_out_;    // [T, H] mixer / MLP out  layers.{i}.mixer_out / .mlp_out
  std::vector<float> logit_hidden_; // [R, H] final norm of the logit rows
  Mamba2Scratch mamba_scratch_;
  AttentionScratch attention_scratch_;
  MlpScratch mlp_scratch_;
};

// The registry's loader for model_type "bamba".
[[nodiscard]] std::unique_ptr<Model> load_bamba(const std::filesystem::path& dir, const nlohmann::json& config_json,
                                                const LoadOptions& options);

}  // namespace bamba
