// `bamba logits`: every-position logits of one or more id sequences, run as one batch in
// one of three schedules (prefill, decode, split:K), written to a safetensors file as
// `logits_<i>` F32 [len_i, vocab]. Needs only config.json and the weights.
#include <iostream>

#include "cli/command.h"
#include "cli/common.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "runtime/sequence_logits.h"

namespace bamba::cli {
namespace {

struct LogitsFlags {
  std::string model_dir;
  std::vector<std::string> ids;
  std::string out;
  std::string mode = "prefill";
  ComputeFlags compute;
};

int run_logits(const LogitsFlags& flags) {
  const LogitsSchedule schedule = LogitsSchedule::parse(flags.mode);
  std::vector<std::vector<int32_t>> sequences;
  for (size_t i = 0; i < flags.ids.size(); ++i) {
    sequences.push_back(parse_id_list(flags.ids[i], "--ids #" + std::to_string(i)));
  }
  const std::filesystem::path dir = resolve_model_dir(flags.model_dir);
  const std::unique_ptr<Model> model = Model::load(dir, {flags.compute.math_mode()});
  const int64_t vocab = model->config().vocab_size;
  for (size_t i = 0; i < sequences.size(); ++i) {
    check_ids_in_vocab(sequences[i], vocab, "--ids #" + std::to_string(i));
  }

  const std::unique_ptr<ThreadPool> pool = flags.compute.make_thread_pool();
  const std::vector<std::vector<float>> logits =
      sequence_logits(*model, sequences, schedule, flags.compute.kv_dtype(), flags.compute.state_dtype(), *pool);

  std::vector<std::string> names;
  for (size_t i = 0; i < logits.size(); ++i) names.push_back("logits_" + std::to_string(i));
  std::vector<io::TensorToWrite> tensors;
  for (size_t i = 0; i < logits.size(); ++i) {
    tensors.push_back({names[i], DType::F32, {int64_t(sequences[i].size()), vocab},
                       std::as_bytes(std::span(logits[i]))});
  }
  io::write_safetensors(flags.out, tensors, {{"mode", flags.mode}, {"precision", flags.compute.precision}});
  return 0;
}

}  // namespace

Command add_logits_command(CLI::App& root) {
  auto flags = std::make_shared<LogitsFlags>();
  CLI::App* cmd = root.add_subcommand("logits", "logits at every position of id sequences, to safetensors");
  add_model_flag(*cmd, flags->model_dir);
  cmd->add_option("--ids", flags->ids, "comma-separated token ids of one sequence (repeat for more)")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--out", flags->out, "output .safetensors file (tensors logits_0, logits_1, ...)")->required();
  cmd->add_option("--mode", flags->mode,
                  "prefill: one chunk; decode: one token per step; split:K: K tokens, then the rest")
      ->capture_default_str();
  add_compute_flags(*cmd, flags->compute);
  return {cmd, [flags] { return run_logits(*flags); }};
}

}  // namespace bamba::cli
