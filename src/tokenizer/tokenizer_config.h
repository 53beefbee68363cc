// tokenizer_config.json (transformers' settings beside tokenizer.json): the BOS/EOS token text,
// add_bos_token and the chat template.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace bamba {

struct TokenizerConfig {
  std::string bos_token;  // "" when not set
  std::string eos_token;
  std::optional<bool> add_bos_token;
  std::string chat_template;  // the "default" one when the file lists several; "" when none

  // Reads `path`; a missing file gives an empty config. When the file has no chat template, a
  // `chat_template.jinja` in the same folder (newer transformers releases) is used instead.
  [[nodiscard]] static TokenizerConfig load(const std::filesystem::path& path);
};

}  // namespace bamba
