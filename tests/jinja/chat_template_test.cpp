// ChatTemplate: the variables a chat template sees, and renders of the real templates in
// tests/data/chat_templates with results known from transformers.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "jinja/chat_template.h"

namespace bamba {
namespace {

std::string read_template(const std::string& name) {
  std::ifstream in(std::string(BAMBA_TEST_DATA_DIR) + "/chat_templates/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ChatTemplateInputs conversation() {
  ChatTemplateInputs in;
  in.messages = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Bye"}])");
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  return in;
}

TEST(ChatTemplate, ToolsAndDocumentsAreDefinedAsNone) {
  ChatTemplate t("{{ tools is defined }}{{ tools is none }}{{ documents is none }}{{ add_generation_prompt }}{{ bos_token }}{{ eos_token }}");
  EXPECT_EQ(t.render(conversation()), "TrueTrueTrueTrue<s></s>");
}

TEST(ChatTemplate, ExtraContextAddsVariables) {
  ChatTemplate t("{{ documents|length }}{{ custom }}{{ messages|length }}");
  ChatTemplateInputs in = conversation();
  in.extra_context = {{"documents", {1, 2}}, {"custom", "x"}, {"messages", "ignored"}};
  EXPECT_EQ(t.render(in), "2x4");
}

TEST(ChatTemplate, ChatML) {
  ChatTemplate t(read_template("chatml.jinja"));
  EXPECT_EQ(t.render(conversation()),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, Zephyr) {
  ChatTemplate t(read_template("zephyr.jinja"));
  ChatTemplateInputs in = conversation();
  in.add_generation_prompt = false;
  EXPECT_EQ(t.render(in), "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n<|user|>\nBye</s>\n");
}

TEST(ChatTemplate, MistralRejectsSystemRole) {
  ChatTemplate t(read_template("mistral.jinja"));
  try {
    (void)t.render(conversation());
    FAIL() << "expected an exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Conversation roles must alternate user/assistant/user/assistant/...");
  }
}

TEST(ChatTemplate, SyntaxErrorThrowsOnConstruction) {
  EXPECT_THROW(ChatTemplate("{% if %}"), Error);
}

TEST(ChatTemplate, RendersConcurrently) {
  const ChatTemplate t(read_template("qwen2.5_tools.jinja"));
  const std::string expected = t.render(conversation());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 50; ++k) {
        if (t.render(conversation()) != expected) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace bamba
