// include/bamba/bamba.h on top of the runtime: a ModelFolder, one thread pool per Model,
// and conversions between the public structs and the internal ones.
#include "bamba/bamba.h"

#include "base/error.h"
#include "base/thread_pool.h"
#include "runtime/generator.h"
#include "runtime/model_folder.h"
#include "runtime/sampler.h"
#include "runtime/sequence_logits.h"

namespace bamba::api {
namespace {

constexpr int64_t kDefaultMaxNewTokens = 256;

bamba::SamplingParams to_internal(const SamplingOptions& o) {
  return {o.temperature, o.top_k, o.top_p, o.min_p, o.repetition_penalty, o.presence_penalty,
          o.frequency_penalty, o.seed};
}

SamplingOptions to_public(const bamba::SamplingParams& p) {
  return {p.temperature, p.top_k, p.top_p, p.min_p, p.repetition_penalty, p.presence_penalty,
          p.frequency_penalty, p.seed};
}

DType kv_dtype_of(const LoadOptions& options) {
  switch (options.kv_dtype.value_or(options.precision == Precision::F32 ? KvCacheDtype::F32 : KvCacheDtype::BF16)) {
    case KvCacheDtype::F32: return DType::F32;
    case KvCacheDtype::BF16: return DType::BF16;
    case KvCacheDtype::Int8: return DType::I8;
  }
  fail("LoadOptions.kv_dtype: not a KvCacheDtype value");
}

}  // namespace

struct Model::Impl {
  ModelFolder folder;
  ThreadPool pool;
  DType kv_dtype;
  DType state_dtype;

  Impl(const std::filesystem::path& dir, const LoadOptions& options)
      : folder(load_model_folder(dir, {options.precision == Precision::F32 ? kernels::MathMode::F32
                                                                           : kernels::MathMode::BF16})),
        pool(options.n_threads > 0 ? options.n_threads : default_thread_count()),
        kv_dtype(kv_dtype_of(options)),
        state_dtype(options.state_dtype == StateDtype::BF16 ? DType::BF16 : DType::F32) {}
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(const std::filesystem::path& dir, const LoadOptions& options) {
  return Model(std::make_unique<Impl>(dir, options));
}

ModelInfo Model::info() const {
  const ModelConfig& c = impl_->folder.model->config();
  return {c.model_type,   c.vocab_size,           c.n_layers,
          c.hidden_size,  c.n_params(),           c.max_position_embeddings,
          impl_->folder.bos_id, impl_->folder.eos_ids, impl_->folder.tokenizer.has_value()};
}

std::vector<int32_t> Model::tokenize(std::string_view text, bool add_special_tokens) const {
  return impl_->folder.require_tokenizer().encode(text, add_special_tokens);
}

std::string Model::detokenize(std::span<const int32_t> ids, bool skip_special_tokens) const {
  return impl_->folder.require_tokenizer().decode(ids, skip_special_tokens);
}

std::vector<std::vector<float>> Model::logits(const std::vector<std::vector<int32_t>>& sequences) {
  return sequence_logits(*impl_->folder.model, sequences, {}, impl_->kv_dtype, impl_->state_dtype, impl_->pool);
}

SamplingOptions Model::default_sampling() const {
  return to_public(bamba::default_sampling(impl_->folder.generation_defaults));
}

GenerateResult Model::generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                               const TextCallback& on_text) {
  const ModelFolder& folder = impl_->folder;
  GenerationRequest request;
  request.prompt.assign(prompt.begin(), prompt.end());
  request.sampling = options.sampling ? to_internal(*options.sampling)
                                      : bamba::default_sampling(folder.generation_defaults);
  request.max_new_tokens =
      options.max_new_tokens.value_or(default_max_new_tokens(folder.generation_defaults, kDefaultMaxNewTokens));
  request.stop = options.stop;
  request.ignore_eos = options.ignore_eos;

  Generator generator(*folder.model, folder.tokenizer ? &*folder.tokenizer : nullptr, folder.eos_ids,
                      impl_->pool, {.kv_dtype = impl_->kv_dtype, .state_dtype = impl_->state_dtype});
  bamba::TextCallback stream;
  if (on_text) stream = [&](size_t, std::string_view text) { on_text(text); };
  GenerationTimings timings;
  std::vector<GenerationResult> results = generator.generate(std::span(&request, 1), stream, &timings);
  GenerationResult& r = results.front();
  return {std::move(r.tokens), std::move(r.text), std::string(finish_reason_name(r.finish_reason)),
          timings.prefill_tokens_per_s(), timings.decode_tokens_per_s()};
}

GenerateResult Model::generate_text(std::string_view prompt, const GenerateOptions& options,
                                    const TextCallback& on_text) {
  const std::vector<int32_t> ids = tokenize(prompt, /*add_special_tokens=*/true);
  return generate(ids, options, on_text);
}

struct Sampler::Impl {
  bamba::Sampler sampler;
};

Sampler::Sampler(const SamplingOptions& options, int64_t vocab_size)
    : impl_(std::make_unique<Impl>(Impl{bamba::Sampler(to_internal(options), vocab_size)})) {}
Sampler::Sampler(Sampler&&) noexcept = default;
Sampler& Sampler::operator=(Sampler&&) noexcept = default;
Sampler::~Sampler() = default;

void Sampler::add_prompt(std::span<const int32_t> prompt) { impl_->sampler.add_prompt(prompt); }

int32_t Sampler::sample(std::span<const float> logits) { return impl_->sampler.sample(logits).token; }

}  // namespace bamba::api
