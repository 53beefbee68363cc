// Everything a model folder gives generation: the model, its tokenizer (when the folder has
// tokenizer.json), the defaults of generation_config.json, and the token ids that end a
// sequence, gathered from every file that names them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "model/generation_config.h"
#include "model/model.h"
#include "runtime/sampler.h"
#include "tokenizer/tokenizer.h"

namespace bamba {

struct ModelFolder {
  std::filesystem::path dir;
  std::unique_ptr<Model> model;
  std::optional<Tokenizer> tokenizer;  // none: the folder has no tokenizer.json
  GenerationDefaults generation_defaults;
  std::vector<int32_t> eos_ids;   // config.json ∪ generation_config.json ∪ the tokenizer's eos
  std::optional<int32_t> bos_id;  // the tokenizer's, else generation_config.json's, else config.json's

  // The tokenizer; an Error naming the folder when it has none.
  [[nodiscard]] const Tokenizer& require_tokenizer() const;
};

enum class TokenizerUse { IfPresent, Skip };

[[nodiscard]] ModelFolder load_model_folder(const std::filesystem::path& dir, const LoadOptions& options,
                                            TokenizerUse tokenizer_use = TokenizerUse::IfPresent);

// A ModelFolder of parts obtained elsewhere (random weights and a tokenizer file, say), its
// EOS and BOS ids gathered as load_model_folder gathers them.
[[nodiscard]] ModelFolder assemble_model_folder(std::filesystem::path dir, std::unique_ptr<Model> model,
                                                std::optional<Tokenizer> tokenizer,
                                                GenerationDefaults generation_defaults);

// Sampling defaults from generation_config.json: `do_sample: false` means greedy; fields it
// does not set keep SamplingParams' own defaults (temperature 1, no filters), as vLLM does.
[[nodiscard]] SamplingParams default_sampling(const GenerationDefaults& defaults);

// generation_config.json's max_new_tokens, else `fallback`.
[[nodiscard]] int64_t default_max_new_tokens(const GenerationDefaults& defaults, int64_t fallback);

}  // namespace bamba
