// Checks `bamba perplexity` against its contract, recomputed here from `bamba tokenize` and
// `bamba logits`: windows of --ctx tokens (trailing partial one dropped unless it is the only
// one), each fed as [BOS] + window, every window token scored, ppl = exp(mean NLL).
//
// The model is tiny-a with the Llama-3 tokenizer.json beside it (no tokenizer_config.json,
// so BOS is generation_config.json's id 1); the text uses only letters whose " x" tokens
// have ids below tiny-a's 512-token vocabulary.
//
// usage: perplexity_check BAMBA MODEL_DIR TOKENIZER_JSON
#include <cmath>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "run_command.h"
#include "scratch_folder.h"

using namespace bamba;
using namespace bamba::testing;
namespace fs = std::filesystem;

namespace {

constexpr int32_t kBos = 1;  // tiny-a generation_config.json bos_token_id

nlohmann::json perplexity(const std::string& bamba, const fs::path& model, const fs::path& text, int ctx, int batch) {
  const CommandResult r = run_command({bamba, "perplexity", "-m", model.string(), "-f", text.string(), "--ctx",
                                       std::to_string(ctx), "--batch", std::to_string(batch), "--precision", "f32",
                                       "--json"});
  check(r.exit_code == 0, "perplexity failed: " + r.describe());
  check(r.err.find("windows") != std::string::npos, "no progress on stderr");
  return nlohmann::json::parse(last_line(r.out));
}

// The contract's number, from the logits of [BOS] + each window.
double expected_ppl(const std::string& bamba, const fs::path& model, const std::vector<std::vector<int32_t>>& windows,
                    int64_t& n_scored) {
  const std::string out = (fs::temp_directory_path() / ("bamba-ppl-" + std::to_string(getpid()) + ".safetensors")).string();
  std::vector<std::string> args = {bamba, "logits", "-m", model.string(), "--out", out, "--precision", "f32"};
  for (const auto& w : windows) {
    std::string ids = std::to_string(kBos);
    for (int32_t id : w) {
      ids += ',';
      ids += std::to_string(id);
    }
    args.insert(args.end(), {"--ids", ids});
  }
  const CommandResult r = run_command(args);
  check(r.exit_code == 0, "logits failed: " + r.describe());
  const auto file = io::SafetensorsFile::open(out);
  double nll = 0;
  n_scored = 0;
  for (size_t i = 0; i < windows.size(); ++i) {
    const io::TensorInfo* t = file->find("logits_" + std::to_string(i));
    const int64_t vocab = t->shape[1];
    const float* logits = reinterpret_cast<const float*>(t->data);
    for (size_t p = 0; p < windows[i].size(); ++p) {  // logits at p predict window token p
      const float* row = logits + p * vocab;
      double max = row[0], sum = 0;
      for (int64_t v = 0; v < vocab; ++v) max = std::max(max, double(row[v]));
      for (int64_t v = 0; v < vocab; ++v) sum += std::exp(row[v] - max);
      nll += std::log(sum) + max - row[windows[i][p]];
      ++n_scored;
    }
  }
  fs::remove(out);
  return std::exp(nll / double(n_scored));
}

}  // namespace

int main(int argc, char** argv) {
  check(argc == 4, "usage: perplexity_check BAMBA MODEL_DIR TOKENIZER_JSON");
  const std::string bamba = argv[1];
  const fs::path model_dir = argv[2], tokenizer_json = argv[3];
  ScratchFolder folder;
  folder.link(model_dir, {"config.json", "generation_config.json", "model.safetensors"});
  folder.link(tokenizer_json.parent_path(), {tokenizer_json.filename().string()});

  // 150 letters from a fixed pseudo-random stream, space separated.
  const std::string letters = "abcdefghjlmnoprstvwy";
  std::string text;
  uint32_t state = 12345;
  for (int i = 0; i < 150; ++i) {
    state = state * 1664525u + 1013904223u;
    if (i) text += ' ';
    text += letters[(state >> 16) % letters.size()];
  }
  const fs::path text_file = folder.path() / "text.txt";
  std::ofstream(text_file) << text;

  const CommandResult tok = run_command({bamba, "tokenize", "--tokenizer", tokenizer_json.string()}, text);
  check(tok.exit_code == 0, "tokenize failed: " + tok.describe());
  const auto tokens = nlohmann::json::parse(tok.out).get<std::vector<int32_t>>();
  check(tokens.size() == 150, "expected one token per letter, got " + std::to_string(tokens.size()));
  for (int32_t id : tokens) check(id < 512, "token " + std::to_string(id) + " is outside tiny-a's vocabulary");

  // --ctx 16: 9 whole windows, the last 6 tokens dropped; several windows per batch.
  std::vector<std::vector<int32_t>> windows;
  for (size_t b = 0; b + 16 <= tokens.size(); b += 16) windows.emplace_back(tokens.begin() + b, tokens.begin() + b + 16);
  int64_t n_expected = 0;
  const double want = expected_ppl(bamba, folder.path(), windows, n_expected);
  const nlohmann::json got = perplexity(bamba, folder.path(), text_file, 16, 4);
  check(got["tokens"] == 144 && n_expected == 144, "tokens: " + got.dump());
  check(std::abs(got["ppl"].get<double>() - want) <= 1e-4 * want,
        "ppl " + got["ppl"].dump() + ", contract gives " + std::to_string(want));
  check(got["tokens_per_s"].get<double>() > 0, "tokens_per_s: " + got.dump());

  // A window longer than the text: the text is the only (partial) window, all of it scored.
  const double whole = expected_ppl(bamba, folder.path(), {tokens}, n_expected);
  const nlohmann::json one = perplexity(bamba, folder.path(), text_file, 1000, 1);
  check(one["tokens"] == 150, "tokens: " + one.dump());
  check(std::abs(one["ppl"].get<double>() - whole) <= 1e-4 * whole,
        "ppl " + one["ppl"].dump() + ", contract gives " + std::to_string(whole));
  return 0;
}
