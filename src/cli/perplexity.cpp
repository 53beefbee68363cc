// `bamba perplexity`: perplexity of a text file, by a fixed contract that a training script
// can reproduce: tokens = encode(text) without specials, cut into consecutive windows of
// --ctx tokens (a trailing partial window is dropped unless it is the only one); each window
// is fed as [BOS] + window and all its tokens are scored (without a BOS id: the window alone,
// scoring tokens 1..n-1); ppl = exp(mean NLL over every scored token).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "base/error.h"
#include "cli/command.h"
#include "cli/common.h"
#include "runtime/model_folder.h"
#include "runtime/sequence_logits.h"

namespace bamba::cli {
namespace {

struct PerplexityFlags {
  std::string model_dir;
  std::string text_file;
  int64_t ctx = 256;
  int64_t batch = 1;
  bool json = false;
  ComputeFlags compute;
};

// -log softmax(row)[target], in double.
double nll(const float* row, int64_t vocab, int32_t target) {
  float max = row[0];
  for (int64_t v = 1; v < vocab; ++v) max = std::max(max, row[v]);
  double sum = 0.0;
  for (int64_t v = 0; v < vocab; ++v) sum += std::exp(double(row[v]) - max);
  return std::log(sum) + max - double(row[target]);
}

void show_progress(size_t done, size_t total, double tokens_per_s) {
  constexpr int kWidth = 40;
  const int filled = int(double(done) / double(total) * kWidth);
  std::fprintf(stderr, "\r[%s%s] %zu/%zu windows, %.1f tokens/s", std::string(size_t(filled), '=').c_str(),
               std::string(size_t(kWidth - filled), ' ').c_str(), done, total, tokens_per_s);
  if (done == total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

int run_perplexity(const PerplexityFlags& f) {
  const std::string text = read_text_file(f.text_file, "-f");
  const std::filesystem::path dir = resolve_model_dir(f.model_dir);
  const ModelFolder folder = load_model_folder(dir, {f.compute.math_mode()});
  const std::vector<int32_t> tokens = folder.require_tokenizer().encode(text, /*add_special_tokens=*/false);
  check_ids_in_vocab(tokens, folder.model->config().vocab_size, "tokens of \"" + f.text_file + "\"");
  const std::optional<int32_t> bos = folder.bos_id;

  std::vector<std::vector<int32_t>> windows;  // each [ctx] (or the whole text when shorter)
  for (size_t begin = 0; begin + size_t(f.ctx) <= tokens.size(); begin += size_t(f.ctx)) {
    windows.emplace_back(tokens.begin() + ptrdiff_t(begin), tokens.begin() + ptrdiff_t(begin) + f.ctx);
  }
  if (windows.empty()) windows.push_back(tokens);
  if (windows.front().size() < (bos ? 1u : 2u)) {
    fail("\"", f.text_file, "\" has ", tokens.size(), " tokens: nothing to score",
         bos ? "" : " (the model has no BOS token, so at least 2 are needed)");
  }

  const std::unique_ptr<ThreadPool> pool = f.compute.make_thread_pool();
  const int64_t vocab = folder.model->config().vocab_size;
  double total_nll = 0.0;
  int64_t n_scored = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t first = 0; first < windows.size(); first += size_t(f.batch)) {
    const size_t last = std::min(windows.size(), first + size_t(f.batch));
    std::vector<std::vector<int32_t>> inputs;  // [BOS] + window, or the window
    for (size_t w = first; w < last; ++w) {
      std::vector<int32_t> input;
      if (bos) input.push_back(*bos);
      input.insert(input.end(), windows[w].begin(), windows[w].end());
      inputs.push_back(std::move(input));
    }
    const std::vector<std::vector<float>> logits =
        sequence_logits(*folder.model, inputs, {}, f.compute.kv_dtype(), f.compute.state_dtype(), *pool);
    for (size_t i = 0; i < inputs.size(); ++i) {
      // The logits at position p predict input[p + 1].
      for (size_t p = 0; p + 1 < inputs[i].size(); ++p) {
        total_nll += nll(logits[i].data() + p * size_t(vocab), vocab, inputs[i][p + 1]);
        ++n_scored;
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    show_progress(last, windows.size(), double(n_scored) / seconds);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double ppl = std::exp(total_nll / double(n_scored));
  const double tokens_per_s = double(n_scored) / seconds;
  if (f.json) {
    std::cout << json_line({{"ppl", ppl}, {"tokens", n_scored}, {"tokens_per_s", tokens_per_s}}) << std::endl;
  } else {
    std::printf("perplexity %.4f over %lld tokens in %zu window(s) (%.1f tokens/s)\n", ppl,
                static_cast<long long>(n_scored), windows.size(), tokens_per_s);
  }
  return 0;
}

}  // namespace

Command add_perplexity_command(CLI::App& root) {
  auto f = std::make_shared<PerplexityFlags>();
  CLI::App* cmd = root.add_subcommand("perplexity", "perplexity of a text file over fixed windows");
  add_model_flag(*cmd, f->model_dir);
  cmd->add_option("-f,--file", f->text_file, "UTF-8 text file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--ctx", f->ctx, "tokens per window (scored; BOS is fed in front)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--batch", f->batch, "windows per forward call")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--json", f->json, "print {\"ppl\", \"tokens\", \"tokens_per_s\"} as the last line");
  add_compute_flags(*cmd, f->compute);
  return {cmd, [f] { return run_perplexity(*f); }};
}

}  // namespace bamba::cli
