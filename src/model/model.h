// Model: a loaded model of any registered family (model/registry.h maps config.json's
// model_type to a loader: "bamba" now; Granite-4.0-H, Nemotron-H, pure Mamba2 as siblings).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "model/batch.h"
#include "model/config.h"
#include "model/linear_observer.h"
#include "state/state_cache.h"

namespace bamba {

struct LoadOptions {
  // Passed to every matmul: F32 is the exact reference path, BF16 may round activations.
  kernels::MathMode math = kernels::MathMode::BF16;
};

class Model {
 public:
  virtual ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Reads `dir`/config.json, picks the family by model_type, opens and validates the weights.
  // Errors name the folder or file, the key or tensor, expected vs found.
  [[nodiscard]] static std::unique_ptr<Model> load(const std::filesystem::path& dir, const LoadOptions& options);

  [[nodiscard]] const ModelConfig& config() const { return config_; }
  // Bytes of weights in use: mapped matrices in their stored dtype plus f32 copies of vectors.
  [[nodiscard]] int64_t weight_bytes() const { return weight_bytes_; }
  // Whether every matmul of the forward computes a row the same way whatever else is in the
  // batch (kernels::matmul_rows_independent), so batch invariance needs no padding.
  [[nodiscard]] virtual bool rows_independent() const = 0;

  // Runs every sequence of the batch (some may be prompt chunks, some single decode tokens),
  // advancing their states; writes logits for batch.logit_rows: [logit_rows.size(), vocab_size].
  // A bad batch (token out of range, unknown slot, spans not consecutive, context or KV pool
  // exhausted) is an Error thrown before any state changes.
  virtual void forward(const Batch& batch, StateCache& cache, float* logits, ThreadPool& pool) = 0;

  // Later forwards show the input of every Linear to `observer` (nullptr: to none).
  void set_linear_observer(LinearInputObserver* observer) { linear_observer_ = observer; }
  // The checkpoint tensor behind a matrix the observer is shown ("lm_head.weight", or the
  // embeddings' name when the head is tied to them); empty for a matrix not of this model.
  [[nodiscard]] virtual std::string matrix_name(const kernels::Matrix& matrix) const = 0;

 protected:
  Model(ModelConfig config, int64_t weight_bytes) : config_(std::move(config)), weight_bytes_(weight_bytes) {}

  ModelConfig config_;
  int64_t weight_bytes_ = 0;
  LinearInputObserver* linear_observer_ = nullptr;
};

}  // namespace bamba
