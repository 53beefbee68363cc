// Renders a model's chat template (tokenizer_config.json's `chat_template`) the way Hugging Face
// transformers' apply_chat_template does, for the OpenAI-compatible chat endpoint.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace bamba {

namespace jinja {
class Template;
}

struct ChatTemplateInputs {
  nlohmann::ordered_json messages;          // [{"role":..., "content":..., ...}, ...] as sent by the client
  nlohmann::ordered_json tools;             // null or a list of tool definitions
  bool add_generation_prompt = true;
  std::string bos_token, eos_token;
  nlohmann::ordered_json extra_context;     // other variables (e.g. documents), may be null
};

class ChatTemplate {
 public:
  explicit ChatTemplate(std::string source);   // parses once; throws bamba::Error on syntax errors
  [[nodiscard]] std::string render(const ChatTemplateInputs& inputs) const;  // thread-safe

 private:
  std::shared_ptr<const jinja::Template> template_;
};

}  // namespace bamba
