// Loading a model folder; see model_folder.h.
#include "runtime/model_folder.h"

#include <algorithm>

#include "base/error.h"

namespace bamba {

const Tokenizer& ModelFolder::require_tokenizer() const {
  if (!tokenizer) fail("model folder ", dir, " has no tokenizer.json: text input and output need one");
  return *tokenizer;
}

ModelFolder load_model_folder(const std::filesystem::path& dir, const LoadOptions& options,
                              TokenizerUse tokenizer_use) {
  std::unique_ptr<Model> model = Model::load(dir, options);
  GenerationDefaults generation_defaults = load_generation_defaults(dir);
  std::optional<Tokenizer> tokenizer;
  const std::filesystem::path tokenizer_json = dir / "tokenizer.json";
  std::error_code ec;
  if (tokenizer_use == TokenizerUse::IfPresent && std::filesystem::exists(tokenizer_json, ec)) {
    tokenizer = Tokenizer::load(tokenizer_json);
  }
  return assemble_model_folder(dir, std::move(model), std::move(tokenizer), std::move(generation_defaults));
}

ModelFolder assemble_model_folder(std::filesystem::path dir, std::unique_ptr<Model> model,
                                  std::optional<Tokenizer> tokenizer, GenerationDefaults generation_defaults) {
  ModelFolder folder;
  folder.dir = std::move(dir);
  folder.model = std::move(model);
  folder.tokenizer = std::move(tokenizer);
  folder.generation_defaults = std::move(generation_defaults);

  const ModelConfig& config = folder.model->config();
  std::vector<int32_t>& eos = folder.eos_ids;
  eos = config.eos_token_ids;
  eos.insert(eos.end(), folder.generation_defaults.eos_token_ids.begin(),
             folder.generation_defaults.eos_token_ids.end());
  if (folder.tokenizer && folder.tokenizer->eos_id()) eos.push_back(*folder.tokenizer->eos_id());
  std::sort(eos.begin(), eos.end());
  eos.erase(std::unique(eos.begin(), eos.end()), eos.end());

  if (folder.tokenizer && folder.tokenizer->bos_id()) {
    folder.bos_id = folder.tokenizer->bos_id();
  } else if (folder.generation_defaults.bos_token_id) {
    folder.bos_id = folder.generation_defaults.bos_token_id;
  } else {
    folder.bos_id = config.bos_token_id;
  }
  return folder;
}

SamplingParams default_sampling(const GenerationDefaults& d) {
  SamplingParams p;
  if (d.temperature) p.temperature = float(*d.temperature);
  if (d.top_k) p.top_k = *d.top_k;
  if (d.top_p) p.top_p = float(*d.top_p);
  if (d.min_p) p.min_p = float(*d.min_p);
  if (d.repetition_penalty) p.repetition_penalty = float(*d.repetition_penalty);
  if (d.do_sample == false) p.temperature = 0.0f;
  return p;
}

int64_t default_max_new_tokens(const GenerationDefaults& d, int64_t fallback) {
  return d.max_new_tokens.value_or(fallback);
}

}  // namespace bamba
