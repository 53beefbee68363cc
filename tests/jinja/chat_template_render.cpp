// Renders every chat template in a directory with every conversation of its
// conversations.json and prints the results as one JSON object keyed "template/case", so that
// tests/js/compare_chat_templates.mjs can compare them with @huggingface/jinja's renders.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "jinja/chat_template.h"

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bamba::fail("cannot read ", path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: chat_template_render <chat_templates_dir>\n";
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    const auto conversations = nlohmann::ordered_json::parse(read_file(dir / "conversations.json"));
    std::vector<std::filesystem::path> templates;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() == ".jinja") templates.push_back(entry.path());
    }
    std::sort(templates.begin(), templates.end());
    nlohmann::ordered_json results = nlohmann::ordered_json::object();
    for (const auto& path : templates) {
      const std::string name = path.stem().string();
      std::optional<bamba::ChatTemplate> tmpl;
      std::string parse_error;
      try {
        tmpl.emplace(read_file(path));
      } catch (const bamba::Error& e) {
        parse_error = e.what();
      }
      for (const auto& c : conversations.at("cases")) {
        nlohmann::ordered_json& result = results[name + "/" + c.at("name").get<std::string>()];
        if (!tmpl) {
          result["error"] = parse_error;
          continue;
        }
        bamba::ChatTemplateInputs inputs;
        inputs.messages = c.at("messages");
        inputs.tools = c.at("tools");
        inputs.add_generation_prompt = c.at("add_generation_prompt").get<bool>();
        inputs.bos_token = c.at("bos_token").get<std::string>();
        inputs.eos_token = c.at("eos_token").get<std::string>();
        inputs.extra_context = c.at("extra_context");
        try {
          result["output"] = tmpl->render(inputs);
        } catch (const bamba::Error& e) {
          result["error"] = e.what();
        }
      }
    }
    std::cout << results.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "chat_template_render: " << e.what() << "\n";
    return 1;
  }
}
