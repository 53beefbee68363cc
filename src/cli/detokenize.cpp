// `bamba detokenize`: a JSON array of token ids on stdin -> the text on stdout.
#include <iostream>

#include "base/error.h"
#include "cli/command.h"
#include "cli/common.h"
#include "io/json_file.h"
#include "tokenizer/tokenizer.h"

namespace bamba::cli {
namespace {

struct DetokenizeFlags {
  std::string tokenizer_path;
  std::string model_dir;
  bool skip_special = false;
};

int run_detokenize(const DetokenizeFlags& flags) {
  const Tokenizer tokenizer = Tokenizer::load(resolve_tokenizer_path(flags.tokenizer_path, flags.model_dir));
  const nlohmann::json j = io::parse_json_text(read_stdin(), "<stdin>");
  if (!j.is_array()) fail("<stdin>: expected a JSON array of token ids, found ", j.type_name());
  std::vector<int32_t> ids;
  for (const nlohmann::json& id : j) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= tokenizer.vocab_size()) {
      fail("<stdin>: ", id.dump(), " at index ", ids.size(), " is not a token id in [0, ",
           tokenizer.vocab_size(), ")");
    }
    ids.push_back(id.get<int32_t>());
  }
  std::cout << tokenizer.decode(ids, flags.skip_special) << std::flush;
  return 0;
}

}  // namespace

Command add_detokenize_command(CLI::App& root) {
  auto flags = std::make_shared<DetokenizeFlags>();
  CLI::App* cmd = root.add_subcommand("detokenize", "decode a JSON array of ids from stdin; print the text");
  CLI::Option* model = add_model_flag(*cmd, flags->model_dir);
  cmd->add_option("--tokenizer", flags->tokenizer_path, "tokenizer.json (instead of the model's)")
      ->check(CLI::ExistingFile)
      ->excludes(model);
  cmd->add_flag("--skip-special", flags->skip_special, "leave special tokens out of the text");
  return {cmd, [flags] { return run_detokenize(*flags); }};
}

}  // namespace bamba::cli
