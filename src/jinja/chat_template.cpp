// The variables transformers passes to a chat template: messages, tools, documents,
// add_generation_prompt, the special tokens, and any extra keyword arguments.
#include "jinja/chat_template.h"

#include "base/error.h"
#include "jinja/template.h"

namespace bamba {

ChatTemplate::ChatTemplate(std::string source) : template_(std::make_shared<const jinja::Template>(source)) {}

std::string ChatTemplate::render(const ChatTemplateInputs& inputs) const {
  if (!inputs.extra_context.is_null() && !inputs.extra_context.is_object()) {
    fail("chat template extra context must be a JSON object");
  }
  // transformers always passes tools and documents, as None when absent, so templates see them
  // as defined; the named inputs win over extra variables of the same name.
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["tools"] = nullptr;
  context["documents"] = nullptr;
  if (inputs.extra_context.is_object()) {
    for (const auto& [key, value] : inputs.extra_context.items()) context[key] = value;
  }
  context["messages"] = inputs.messages;
  if (!inputs.tools.is_null()) context["tools"] = inputs.tools;
  context["add_generation_prompt"] = inputs.add_generation_prompt;
  context["bos_token"] = inputs.bos_token;
  context["eos_token"] = inputs.eos_token;
  return template_->render(context);
}

}  // namespace bamba
