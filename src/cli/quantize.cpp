// `bamba quantize`: writes a quantized copy of a float model folder (model/quantize.h) —
// int8 per output channel or per group, or int4 per group — with a progress bar on stderr.
// With --calibration, weights round by GPTQ on the activations of a sample text.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/error.h"
#include "cli/command.h"
#include "cli/common.h"
#include "model/quantize.h"
#include "runtime/model_folder.h"

namespace bamba::cli {
namespace {

struct QuantizeFlags {
  std::string model_dir;
  std::string out_dir;
  std::string type;
  int64_t group_size = 0;
  int64_t embedding_group_size = -1;
  std::vector<std::string> keep;
  std::string calibration_file;
  int64_t calibration_tokens = 2048;
  int64_t calibration_ctx = 512;
  int threads = 0;
};

// The calibration text as the model reads text: encoded without specials, the first
// `max_tokens` tokens cut into windows of `ctx` positions, each opened by BOS when the model
// has one (as `bamba perplexity` feeds its windows).
std::vector<std::vector<int32_t>> calibration_windows(const std::filesystem::path& dir, const QuantizeFlags& f) {
  const std::string text = read_text_file(f.calibration_file, "--calibration");
  const ModelFolder folder = load_model_folder(dir, {});
  std::vector<int32_t> tokens = folder.require_tokenizer().encode(text, /*add_special_tokens=*/false);
  if (tokens.empty()) fail("--calibration: \"", f.calibration_file, "\" holds no text");
  check_ids_in_vocab(tokens, folder.model->config().vocab_size, "tokens of \"" + f.calibration_file + "\"");
  if (int64_t(tokens.size()) > f.calibration_tokens) tokens.resize(size_t(f.calibration_tokens));
  const int64_t ctx = std::min(f.calibration_ctx, folder.model->config().max_position_embeddings);
  const int64_t per_window = folder.bos_id ? ctx - 1 : ctx;
  if (per_window < 1) fail("--calibration-ctx: needs room for at least one token after BOS, found ", ctx);
  std::vector<std::vector<int32_t>> windows;
  for (size_t begin = 0; begin < tokens.size(); begin += size_t(per_window)) {
    std::vector<int32_t>& window = windows.emplace_back();
    if (folder.bos_id) window.push_back(*folder.bos_id);
    const size_t end = std::min(tokens.size(), begin + size_t(per_window));
    window.insert(window.end(), tokens.begin() + ptrdiff_t(begin), tokens.begin() + ptrdiff_t(end));
  }
  return windows;
}

void show_progress(QuantizePhase phase, int64_t done, int64_t total, double seconds) {
  constexpr int kWidth = 40;
  const double fraction = total > 0 ? double(done) / double(total) : 1.0;
  const int filled = int(fraction * kWidth);
  std::fprintf(stderr, "\r[%s%s] %5.1f%%  ", std::string(size_t(filled), '=').c_str(),
               std::string(size_t(kWidth - filled), ' ').c_str(), 100 * fraction);
  if (phase == QuantizePhase::Calibrating) {
    std::fprintf(stderr, "calibrating: %lld / %lld tokens  %.0f s", (long long)done, (long long)total, seconds);
  } else {
    std::fprintf(stderr, "%.2f / %.2f GB  %.0f s", double(done) * 1e-9, double(total) * 1e-9, seconds);
  }
  if (phase == QuantizePhase::Calibrating && done == total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

int run_quantize(const QuantizeFlags& f) {
  const std::filesystem::path in_dir = resolve_model_dir(f.model_dir);
  QuantizeOptions options;
  options.format = f.type == "q4" ? WeightFormat::Int4 : WeightFormat::Int8;
  options.group_size = f.group_size;
  options.embedding_group_size = f.embedding_group_size;
  options.keep = f.keep;
  if (!f.calibration_file.empty()) options.calibration = calibration_windows(in_dir, f);
  ThreadPool pool(f.threads > 0 ? f.threads : default_thread_count());
  const auto start = std::chrono::steady_clock::now();
  if (!options.calibration.empty()) {
    std::fprintf(stderr, "calibrating on %lld tokens of %s (%zu windows), GPTQ rounding\n",
                 (long long)options.calibration_tokens(), f.calibration_file.c_str(), options.calibration.size());
  }
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  auto last_shown = start;
  quantize_checkpoint(in_dir, f.out_dir, options, pool, [&](QuantizePhase phase, int64_t done, int64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (done == total || now - last_shown > std::chrono::milliseconds(200)) {
      last_shown = now;
      show_progress(phase, done, total, elapsed());
    }
  });
  std::fprintf(stderr, "\nwrote %s in %.1f s\n", f.out_dir.c_str(), elapsed());
  return 0;
}

}  // namespace

Command add_quantize_command(CLI::App& root) {
  auto flags = std::make_shared<QuantizeFlags>();
  CLI::App* cmd = root.add_subcommand(
      "quantize",
      "write a quantized copy of a model folder: every Linear weight and the embeddings (unless --keep); "
      "conv1d, A_log, D, dt_bias and the norms stay as stored");
  add_model_flag(*cmd, flags->model_dir);
  cmd->add_option("--out", flags->out_dir, "output folder (created)")->required();
  cmd->add_option("--type", flags->type,
                  "int8: symmetric per output channel (per group with --group-size); q4: 4-bit symmetric per group, "
                  "packed (compressed-tensors pack-quantized)")
      ->required()
      ->check(CLI::IsMember({"int8", "q4"}));
  cmd->add_option("--group-size", flags->group_size,
                  "weights per scale along a row (int8 default: the whole row; q4 default: 64)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--embedding-group-size", flags->embedding_group_size,
                  "weights per scale along a row of embed_tokens and lm_head (default 32 when it divides the hidden "
                  "size; 0: as --group-size)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep", flags->keep,
                  "keep weights whose name contains this text in their stored precision (repeatable), e.g. lm_head")
      ->expected(1, -1);
  cmd->add_option("--calibration", flags->calibration_file,
                  "text file the float model reads first; weights then round by GPTQ (error-compensating, "
                  "act order) on the activations each Linear saw, instead of to nearest. Needs the folder's tokenizer")
      ->check(CLI::ExistingFile);
  cmd->add_option("--calibration-tokens", flags->calibration_tokens,
                  "tokens of the calibration text used (default 2048; each costs memory for every Linear's input)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--calibration-ctx", flags->calibration_ctx,
                  "positions per calibration window, BOS included (default 512, at most max_position_embeddings)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", flags->threads, "threads (default: every CPU available)")
      ->check(CLI::NonNegativeNumber);
  return {cmd, [flags] { return run_quantize(*flags); }};
}

}  // namespace bamba::cli
