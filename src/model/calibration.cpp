// Collecting Linear inputs (calibration.h) through the model's LinearInputObserver hook.
#include "model/calibration.h"

#include <algorithm>

#include "base/error.h"
#include "state/state_cache.h"

namespace bamba {

namespace {

// Tokens per forward call: bounds the logits buffer (chunk × vocab floats) that the head's
// input needs every position of.
constexpr int64_t kCalibrationChunk = 256;

class InputCollector final : public LinearInputObserver {
 public:
  InputCollector(const Model& model, const std::function<bool(const std::string&)>& wanted)
      : model_(model), wanted_(wanted) {}

  void observe(const kernels::Matrix& weight, const float* x, int64_t rows, int64_t cols) override {
    const std::string name = model_.matrix_name(weight);
    if (name.empty()) fail("internal: calibration saw a matrix the model does not name");
    if (wanted_ && !wanted_(name)) {
      // The next Linear shares nothing with it (activation buffers are reused across layers).
      last_x_ = nullptr;
      return;
    }
    std::shared_ptr<LinearInputs>& inputs = inputs_[name];
    // Consecutive Linears over the same activations (q/k/v, gate/up) share their rows.
    const bool same_activations = x == last_x_ && rows == last_rows_ && cols == last_cols_;
    if (same_activations && (!inputs || inputs == last_inputs_)) {
      inputs = last_inputs_;
      return;
    }
    if (!inputs) {
      inputs = std::make_shared<LinearInputs>();
      inputs->cols = cols;
    }
    const size_t first = inputs->values.size();
    inputs->values.resize(first + size_t(rows * cols));
    for (int64_t i = 0; i < rows * cols; ++i) inputs->values[first + size_t(i)] = f32_to_bf16(x[i]);
    inputs->rows += rows;
    last_x_ = x;
    last_rows_ = rows;
    last_cols_ = cols;
    last_inputs_ = inputs;
  }

  [[nodiscard]] CalibrationInputs take() {
    CalibrationInputs out;
    for (auto& [name, inputs] : inputs_) out.emplace(name, std::move(inputs));
    return out;
  }

 private:
  const Model& model_;
  const std::function<bool(const std::string&)>& wanted_;
  std::map<std::string, std::shared_ptr<LinearInputs>> inputs_;
  const float* last_x_ = nullptr;
  int64_t last_rows_ = 0, last_cols_ = 0;
  std::shared_ptr<LinearInputs> last_inputs_;
};

}  // namespace

CalibrationInputs collect_linear_inputs(Model& model, std::span<const std::vector<int32_t>> sequences,
                                        ThreadPool& pool, const std::function<bool(const std::string&)>& wanted,
                                        const std::function<void(int64_t, int64_t)>& progress) {
  const ModelConfig& config = model.config();
  int64_t longest = 0, total = 0, done = 0;
  for (const std::vector<int32_t>& seq : sequences) {
    longest = std::max(longest, int64_t(seq.size()));
    total += int64_t(seq.size());
  }
  StateCacheOptions options;
  options.max_sequences = 1;
  options.kv_block_count = (longest + 15) / 16 + 1;
  StateCache cache(config, options);
  InputCollector collector(model, wanted);
  model.set_linear_observer(&collector);
  std::vector<float> logits;
  try {
    for (size_t i = 0; i < sequences.size(); ++i) {
      const std::vector<int32_t>& seq = sequences[i];
      const int slot = *cache.acquire();
      for (int64_t begin = 0; begin < int64_t(seq.size()); begin += kCalibrationChunk) {
        const int64_t n = std::min<int64_t>(kCalibrationChunk, int64_t(seq.size()) - begin);
        Batch batch;
        batch.tokens.assign(seq.begin() + begin, seq.begin() + begin + n);
        batch.sequences.push_back({slot, 0, n});
        for (int64_t t = 0; t < n; ++t) batch.logit_rows.push_back(t);
        logits.resize(size_t(n * config.vocab_size));
        try {
          model.forward(batch, cache, logits.data(), pool);
        } catch (const Error& e) {
          fail("calibration sequence ", i, ", tokens from ", begin, ": ", e.what());
        }
        done += n;
        if (progress) progress(done, total);
      }
      cache.release(slot);
    }
  } catch (...) {
    model.set_linear_observer(nullptr);
    throw;
  }
  model.set_linear_observer(nullptr);
  return collector.take();
}

}  // namespace bamba
