// `bamba tokenize`: UTF-8 text on stdin -> a JSON array of token ids on stdout.
#include <iostream>

#include "cli/command.h"
#include "cli/common.h"
#include "tokenizer/tokenizer.h"

namespace bamba::cli {
namespace {

struct TokenizeFlags {
  std::string tokenizer_path;
  std::string model_dir;
  bool bos = false;
};

int run_tokenize(const TokenizeFlags& flags) {
  const Tokenizer tokenizer = Tokenizer::load(resolve_tokenizer_path(flags.tokenizer_path, flags.model_dir));
  // Without --bos the post-processor adds nothing; special tokens written in the text are
  // still recognised, as Hugging Face tokenizers do.
  const std::vector<int32_t> ids = tokenizer.encode(read_stdin(), /*add_special_tokens=*/flags.bos);
  std::cout << json_line(ids) << std::endl;
  return 0;
}

}  // namespace

Command add_tokenize_command(CLI::App& root) {
  auto flags = std::make_shared<TokenizeFlags>();
  CLI::App* cmd = root.add_subcommand("tokenize", "encode text from stdin; print a JSON array of ids");
  CLI::Option* model = add_model_flag(*cmd, flags->model_dir);
  cmd->add_option("--tokenizer", flags->tokenizer_path, "tokenizer.json (instead of the model's)")
      ->check(CLI::ExistingFile)
      ->excludes(model);
  cmd->add_flag("--bos", flags->bos, "apply the post-processor (e.g. prepend BOS)");
  return {cmd, [flags] { return run_tokenize(*flags); }};
}

}  // namespace bamba::cli
