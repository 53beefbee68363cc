// Parses tokenizer_config.json fields, which come as plain strings or as AddedToken-like objects.
#include "tokenizer/tokenizer_config.h"

#include "tokenizer/json_field.h"

namespace bamba {
namespace {

// `bos_token` / `eos_token`: "text", {"content": "text", ...}, or null.
std::string token_text(const JsonField& config, std::string_view key) {
  const auto field = config.find(key);
  if (!field) return "";
  if (field->json().is_object()) return field->at("content").as_string();
  return field->as_string();
}

std::string template_text(const JsonField& config) {
  const auto field = config.find("chat_template");
  if (!field) return "";
  if (!field->json().is_array()) return field->as_string();
  // Several named templates: [{"name": "default", "template": "..."}, {"name": "tool_use", ...}].
  for (size_t i = 0; i < field->size(); ++i) {
    const JsonField entry = field->at(i);
    if (entry.at("name").as_string() == "default") return entry.at("template").as_string();
  }
  return "";
}

}  // namespace

TokenizerConfig TokenizerConfig::load(const std::filesystem::path& path) {
  TokenizerConfig result;
  if (std::filesystem::exists(path)) {
    const JsonField config = JsonField::read_file(path);
    config.require_object();
    result.bos_token = token_text(config, "bos_token");
    result.eos_token = token_text(config, "eos_token");
    if (const auto add_bos = config.find("add_bos_token")) result.add_bos_token = add_bos->as_bool();
    result.chat_template = template_text(config);
  }
  const auto jinja = path.parent_path() / "chat_template.jinja";
  if (result.chat_template.empty() && std::filesystem::exists(jinja)) result.chat_template = read_text_file(jinja);
  return result;
}

}  // namespace bamba
