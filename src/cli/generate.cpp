// `bamba generate`: continue a prompt (text or ids), streaming the text to stdout, or with
// --json printing one JSON object with ids, text, finish reason and speed.
#include <cstdio>
#include <iostream>

#include "base/error.h"
#include "cli/command.h"
#include "cli/common.h"
#include "runtime/generator.h"
#include "runtime/model_folder.h"

namespace bamba::cli {
namespace {

constexpr int64_t kDefaultMaxNewTokens = 256;  // when neither -n nor generation_config.json says

struct GenerateFlags {
  std::string model_dir;
  std::string prompt;
  std::string prompt_ids;
  int64_t max_new_tokens = 0;
  SamplingParams sampling;  // only the fields given on the command line are used
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  bool json = false;
  ComputeFlags compute;
  // Which optional flags were given (CLI flags override generation_config.json).
  CLI::Option *n_opt, *temperature_opt, *top_k_opt, *top_p_opt, *min_p_opt, *repetition_opt,
      *presence_opt, *frequency_opt, *seed_opt, *prompt_opt;
};

SamplingParams sampling_for(const GenerateFlags& f, const GenerationDefaults& defaults) {
  SamplingParams p = default_sampling(defaults);
  if (*f.temperature_opt) p.temperature = f.sampling.temperature;
  if (*f.top_k_opt) p.top_k = f.sampling.top_k;
  if (*f.top_p_opt) p.top_p = f.sampling.top_p;
  if (*f.min_p_opt) p.min_p = f.sampling.min_p;
  if (*f.repetition_opt) p.repetition_penalty = f.sampling.repetition_penalty;
  if (*f.presence_opt) p.presence_penalty = f.sampling.presence_penalty;
  if (*f.frequency_opt) p.frequency_penalty = f.sampling.frequency_penalty;
  if (*f.seed_opt) p.seed = f.seed;
  return p;
}

int run_generate(const GenerateFlags& f) {
  const std::filesystem::path dir = resolve_model_dir(f.model_dir);
  const ModelFolder folder = load_model_folder(dir, {f.compute.math_mode()});
  const Tokenizer* tokenizer = folder.tokenizer ? &*folder.tokenizer : nullptr;

  GenerationRequest request;
  request.prompt = *f.prompt_opt ? folder.require_tokenizer().encode(f.prompt, /*add_special_tokens=*/true)
                                 : parse_id_list(f.prompt_ids, "--prompt-ids");
  check_ids_in_vocab(request.prompt, folder.model->config().vocab_size, "prompt");
  request.sampling = sampling_for(f, folder.generation_defaults);
  request.max_new_tokens = *f.n_opt ? f.max_new_tokens
                                    : default_max_new_tokens(folder.generation_defaults, kDefaultMaxNewTokens);
  request.stop = f.stop;
  request.ignore_eos = f.ignore_eos;

  const std::unique_ptr<ThreadPool> pool = f.compute.make_thread_pool();
  Generator generator(*folder.model, tokenizer, folder.eos_ids, *pool,
                      {.kv_dtype = f.compute.kv_dtype(), .state_dtype = f.compute.state_dtype()});
  TextCallback stream;
  if (!f.json) {
    stream = [](size_t, std::string_view text) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    };
  }
  GenerationTimings timings;
  const GenerationResult result = generator.generate(std::span(&request, 1), stream, &timings).front();

  if (f.json) {
    const nlohmann::json j = {
        {"prompt_ids", request.prompt},
        {"output_ids", result.tokens},
        {"text", result.text},
        {"finish_reason", finish_reason_name(result.finish_reason)},
        {"timings",
         {{"prefill_tokens_per_s", timings.prefill_tokens_per_s()},
          {"decode_tokens_per_s", timings.decode_tokens_per_s()}}},
    };
    std::cout << json_line(j) << std::endl;
  } else {
    std::cout << std::endl;
    std::fprintf(stderr, "\n%zu prompt tokens: %.2f tokens/s; %zu generated (%s): %.2f tokens/s\n",
                 request.prompt.size(), timings.prefill_tokens_per_s(), result.tokens.size(),
                 std::string(finish_reason_name(result.finish_reason)).c_str(), timings.decode_tokens_per_s());
  }
  return 0;
}

}  // namespace

Command add_generate_command(CLI::App& root) {
  auto f = std::make_shared<GenerateFlags>();
  CLI::App* cmd = root.add_subcommand("generate", "continue a prompt, streaming the text to stdout");
  add_model_flag(*cmd, f->model_dir);
  CLI::Option_group* prompt = cmd->add_option_group("prompt", "exactly one of -p and --prompt-ids");
  f->prompt_opt = prompt->add_option("-p,--prompt", f->prompt, "prompt text (encoded with BOS if the tokenizer adds it)");
  prompt->add_option("--prompt-ids", f->prompt_ids, "prompt as comma-separated token ids");
  prompt->require_option(1);
  f->n_opt = cmd->add_option("-n,--max-tokens", f->max_new_tokens,
                             "tokens to generate (default: generation_config.json, else 256)")
                 ->check(CLI::PositiveNumber);
  f->temperature_opt = cmd->add_option("--temperature", f->sampling.temperature, "0: greedy")
                           ->check(CLI::NonNegativeNumber);
  f->top_k_opt = cmd->add_option("--top-k", f->sampling.top_k, "keep the k most likely tokens (0: off)")
                     ->check(CLI::NonNegativeNumber);
  f->top_p_opt = cmd->add_option("--top-p", f->sampling.top_p, "nucleus sampling mass, (0, 1]");
  f->min_p_opt = cmd->add_option("--min-p", f->sampling.min_p, "drop tokens below min_p * p_max");
  f->repetition_opt = cmd->add_option("--repetition-penalty", f->sampling.repetition_penalty,
                                      "HF-style penalty over prompt and output tokens (1: off)");
  f->presence_opt = cmd->add_option("--presence-penalty", f->sampling.presence_penalty,
                                    "OpenAI-style, over output tokens");
  f->frequency_opt = cmd->add_option("--frequency-penalty", f->sampling.frequency_penalty,
                                     "OpenAI-style, over output tokens");
  f->seed_opt = cmd->add_option("--seed", f->seed, "random seed (default: random)");
  cmd->add_option("--stop", f->stop, "stop string (repeatable); not included in the output")
      ->allow_extra_args(false);
  cmd->add_flag("--ignore-eos", f->ignore_eos, "keep generating past EOS tokens");
  cmd->add_flag("--json", f->json, "print only one JSON object with ids, text, finish_reason, timings");
  add_compute_flags(*cmd, f->compute);
  return {cmd, [f] { return run_generate(*f); }};
}

}  // namespace bamba::cli
