// Checks `bamba tokenize` / `bamba detokenize` with a real tokenizer: text -> ids -> the same
// text, no specials without --bos, the BOS id first with it.
//
// usage: tokenize_check BAMBA TOKENIZER_JSON
#include <string>

#include <nlohmann/json.hpp>

#include "run_command.h"

using namespace bamba::testing;

int main(int argc, char** argv) {
  check(argc == 3, "usage: tokenize_check BAMBA TOKENIZER_JSON");
  const std::string bamba = argv[1], tokenizer = argv[2];
  const std::string text =
      "Hello world! Bamba mixes Mamba2 and attention layers.\n"
      "  Indented line,\ttabs, numbers 12345 and 3.14159;\n"
      "Ünïcödé: naïve café, 日本語のテキスト, emoji 🐍🚀, and a final line without newline";

  const CommandResult plain = run_command({bamba, "tokenize", "--tokenizer", tokenizer}, text);
  check(plain.exit_code == 0, "tokenize failed: " + plain.describe());
  const nlohmann::json ids = nlohmann::json::parse(plain.out);
  check(ids.is_array() && ids.size() > 20, "expected a JSON array of ids: " + plain.out);

  const CommandResult with_bos = run_command({bamba, "tokenize", "--tokenizer", tokenizer, "--bos"}, text);
  check(with_bos.exit_code == 0, "tokenize --bos failed: " + with_bos.describe());
  const nlohmann::json bos_ids = nlohmann::json::parse(with_bos.out);
  check(bos_ids.size() == ids.size() + 1 && bos_ids[0] == 128000, "--bos should prepend <|begin_of_text|> (128000)");
  check(ids[0] != 128000, "without --bos no BOS is added");

  const CommandResult back = run_command({bamba, "detokenize", "--tokenizer", tokenizer}, ids.dump());
  check(back.exit_code == 0, "detokenize failed: " + back.describe());
  check(back.out == text, "round trip changed the text:\n" + back.out);

  const CommandResult bad = run_command({bamba, "detokenize", "--tokenizer", tokenizer}, "[1, \"x\"]");
  check(bad.exit_code == 1 && !bad.err.empty(), "bad ids must be an error exit: " + bad.describe());
  return 0;
}
