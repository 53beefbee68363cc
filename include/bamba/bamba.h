// The public C++ API of bamba.cpp, for programs that embed the engine: load a model folder
// (weights, tokenizer, generation defaults), tokenize and detokenize, compute logits for a
// batch of sequences, sample, and generate text with a streaming callback.
//
// Everything lives in `bamba::api`; the engine's internals stay behind pimpl. Every function
// reports bad input (missing files, bad configs, ids outside the vocabulary, bad sampling
// values) by throwing std::runtime_error with a message that names what was wrong. A Model is
// not safe to use from several threads at once; separate Models are independent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bamba::api {

enum class Precision {
  F32,   // exact f32 math and KV cache: the reference
  BF16,  // bf16 matmul inputs and KV cache, f32 accumulation: the fast default
};

// Storage of the KV cache of the attention layers.
enum class KvCacheDtype {
  F32,
  BF16,
  Int8,  // one f32 scale per position and kv head: about half of bf16's bytes; lossy
};

// Storage of the per-sequence SSM states of the Mamba2 layers.
enum class StateDtype {
  F32,
  BF16,  // half the state memory; lossy: rounded after every forward, so the error builds up
};

struct LoadOptions {
  int n_threads = 0;  // 0: every CPU this process may use
  Precision precision = Precision::BF16;
  std::optional<KvCacheDtype> kv_dtype = std::nullopt;  // none: F32 with Precision::F32, else BF16
  StateDtype state_dtype = StateDtype::F32;
};

struct SamplingOptions {
  float temperature = 1.0f;         // 0: greedy
  int64_t top_k = 0;                // 0: off
  float top_p = 1.0f;               // (0, 1]
  float min_p = 0.0f;               // [0, 1]
  float repetition_penalty = 1.0f;  // Hugging Face style, over prompt and output tokens
  float presence_penalty = 0.0f;    // OpenAI style, over output tokens
  float frequency_penalty = 0.0f;   // OpenAI style, over output tokens
  std::optional<uint64_t> seed = std::nullopt;  // none: random
};

struct GenerateOptions {
  std::optional<SamplingOptions> sampling = std::nullopt;  // none: the model's generation_config.json defaults
  std::optional<int64_t> max_new_tokens = std::nullopt;    // none: generation_config.json's, else 256
  std::vector<std::string> stop = {};       // stop strings (not included in the text)
  bool ignore_eos = false;
};

struct GenerateResult {
  std::vector<int32_t> tokens = {};  // generated ids, including the EOS id that ended generation
  std::string text = {};             // generated text, without EOS and stop string
  std::string finish_reason = {};    // "stop" (EOS or stop string) or "length"
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
};

struct ModelInfo {
  std::string model_type = {};
  int64_t vocab_size = 0;
  int64_t n_layers = 0;
  int64_t hidden_size = 0;
  int64_t n_params = 0;
  int64_t max_positions = 0;
  std::optional<int32_t> bos_id = std::nullopt;
  std::vector<int32_t> eos_ids = {};  // every id that ends generation
  bool has_tokenizer = false;
};

// Receives generated text as it becomes final.
using TextCallback = std::function<void(std::string_view text)>;

class Model {
 public:
  // Loads config.json, the safetensors weights, and (when present) tokenizer.json,
  // tokenizer_config.json and generation_config.json from `dir`.
  [[nodiscard]] static Model load(const std::filesystem::path& dir, const LoadOptions& options = {});
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  [[nodiscard]] ModelInfo info() const;

  // Text -> ids; `add_special_tokens` applies the tokenizer's post-processor (e.g. BOS).
  [[nodiscard]] std::vector<int32_t> tokenize(std::string_view text, bool add_special_tokens = true) const;
  [[nodiscard]] std::string detokenize(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // Runs every sequence from a fresh state, all in one batch; returns for each sequence its
  // logits at every position, row-major [len, vocab_size].
  [[nodiscard]] std::vector<std::vector<float>> logits(const std::vector<std::vector<int32_t>>& sequences);

  // The sampling defaults of generation_config.json.
  [[nodiscard]] SamplingOptions default_sampling() const;

  // Continues `prompt` (token ids) until EOS, a stop string or max_new_tokens.
  [[nodiscard]] GenerateResult generate(std::span<const int32_t> prompt, const GenerateOptions& options = {},
                                        const TextCallback& on_text = {});
  // Encodes `prompt` with the post-processor (BOS if the tokenizer adds one), then generates.
  [[nodiscard]] GenerateResult generate_text(std::string_view prompt, const GenerateOptions& options = {},
                                             const TextCallback& on_text = {});

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Chooses tokens from logits rows for one sequence, with its own seeded random stream.
class Sampler {
 public:
  Sampler(const SamplingOptions& options, int64_t vocab_size);
  Sampler(Sampler&&) noexcept;
  Sampler& operator=(Sampler&&) noexcept;
  ~Sampler();

  // Tokens the repetition penalty covers before any output exists.
  void add_prompt(std::span<const int32_t> prompt);
  // The next token from logits [vocab_size]; it counts as generated for the penalties.
  [[nodiscard]] int32_t sample(std::span<const float> logits);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bamba::api
