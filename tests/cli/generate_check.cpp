// Checks `bamba generate` on a tiny checkpoint: the --json line's shape and contents (greedy
// ids equal the golden continuation while margins allow), streamed text equal to the JSON
// text (with a tokenizer placed beside the checkpoint), and seeded sampling repeatable.
//
// usage: generate_check BAMBA MODEL_DIR TOKENIZER_DIR
#include <algorithm>
#include <filesystem>
#include <string>

#include "golden.h"
#include "run_command.h"
#include "scratch_folder.h"

using namespace bamba;
using namespace bamba::testing;
namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    if (!s.empty()) s += ',';
    s += std::to_string(id);
  }
  return s;
}

// Runs generate with --json and returns the parsed last line; stdout must hold only it.
nlohmann::json generate_json(std::vector<std::string> args) {
  args.push_back("--json");
  const CommandResult r = run_command(args);
  check(r.exit_code == 0, "generate --json failed: " + r.describe());
  check(std::count(r.out.begin(), r.out.end(), '\n') == 1 && r.out.back() == '\n',
        "stdout of --json must be exactly one line, got: " + r.out);
  const nlohmann::json j = nlohmann::json::parse(last_line(r.out));
  check(j.is_object() && j.size() == 5, "expected 5 keys: " + j.dump());
  check(j.at("prompt_ids").is_array() && j.at("output_ids").is_array() && j.at("text").is_string() &&
            j.at("finish_reason").is_string() && j.at("timings").is_object(),
        "wrong member types: " + j.dump());
  const std::string reason = j.at("finish_reason");
  check(reason == "stop" || reason == "length", "finish_reason " + reason);
  const nlohmann::json& t = j.at("timings");
  check(t.at("prefill_tokens_per_s").is_number() && t.at("prefill_tokens_per_s").get<double>() > 0 &&
            t.at("decode_tokens_per_s").is_number() && t.at("decode_tokens_per_s").get<double>() >= 0,
        "timings: " + t.dump());
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  check(argc == 4, "usage: generate_check BAMBA MODEL_DIR TOKENIZER_DIR");
  const std::string bamba = argv[1];
  const fs::path model_dir = argv[2], tokenizer_dir = argv[3];
  const Golden golden = Golden::open(model_dir);

  // Greedy, f32: the golden continuation while its margins exceed twice the fp32 tolerance.
  const std::vector<int32_t> prompt = golden.ids("ids_5");
  const std::vector<int32_t> greedy = golden.ids("greedy_5");
  const std::vector<float> margin = golden.floats("greedy_margin_5");
  const nlohmann::json j = generate_json({bamba, "generate", "-m", model_dir, "--prompt-ids", join(prompt), "-n",
                                          "8", "--temperature", "0", "--precision", "f32", "--threads", "1"});
  check(j["prompt_ids"].get<std::vector<int32_t>>() == prompt, "prompt_ids differ from the prompt");
  const auto out = j["output_ids"].get<std::vector<int32_t>>();
  const int32_t eos = 2;  // tiny-a's config.json eos_token_id
  if (j["finish_reason"] == "length") {
    check(out.size() == 8, "finish_reason length with " + std::to_string(out.size()) + " tokens");
  } else {
    check(!out.empty() && out.size() <= 8 && out.back() == eos, "finish_reason stop without EOS");
  }
  check(j["text"] == "", "a folder without tokenizer.json has no text");
  for (size_t k = 0; k < out.size() && margin[k] >= 2e-3; ++k) {
    check(out[k] == greedy[k], "greedy token " + std::to_string(k) + " differs from the golden");
  }

  // The same checkpoint with a tokenizer beside it: streamed text == JSON text.
  ScratchFolder folder;
  folder.link(model_dir, {"config.json", "generation_config.json", "model.safetensors"});
  folder.link(tokenizer_dir, {"tokenizer.json", "tokenizer_config.json"});
  const fs::path with_tokenizer = folder.path();
  const std::vector<std::string> args = {bamba, "generate", "-m", with_tokenizer.string(), "--prompt-ids",
                                         join(golden.ids("ids_17")), "-n", "12", "--temperature", "0",
                                         "--ignore-eos"};
  const CommandResult streamed = run_command(args);
  check(streamed.exit_code == 0, "generate (streaming) failed: " + streamed.describe());
  const nlohmann::json jt = generate_json(args);
  check(!jt["text"].get<std::string>().empty(), "no text decoded");
  check(streamed.out == jt["text"].get<std::string>() + "\n",
        "streamed text \"" + streamed.out + "\" != JSON text \"" + jt["text"].get<std::string>() + "\"");
  check(jt["output_ids"].size() == 12 && jt["finish_reason"] == "length", "--ignore-eos -n 12: " + jt.dump());

  // Seeded sampling repeats itself.
  const std::vector<std::string> sampled = {bamba, "generate", "-m", with_tokenizer.string(), "--prompt-ids",
                                            join(prompt), "-n", "10", "--temperature", "1.0", "--top-p",
                                            "0.9", "--seed", "11", "--ignore-eos"};
  check(generate_json(sampled)["output_ids"] == generate_json(sampled)["output_ids"],
        "the same seed gave different tokens");
  return 0;
}
