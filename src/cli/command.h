// How subcommands plug into the `bamba` binary: each file adds its CLI11 subcommand to the
// root app and returns the function that runs it once the command line has been parsed.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace bamba::cli {

struct Command {
  CLI::App* app = nullptr;   // the parsed subcommand, set when it was given
  std::function<int()> run;  // exit status
};

[[nodiscard]] Command add_generate_command(CLI::App& root);
[[nodiscard]] Command add_logits_command(CLI::App& root);
[[nodiscard]] Command add_tokenize_command(CLI::App& root);
[[nodiscard]] Command add_detokenize_command(CLI::App& root);
[[nodiscard]] Command add_info_command(CLI::App& root);
[[nodiscard]] Command add_perplexity_command(CLI::App& root);
[[nodiscard]] Command add_serve_command(CLI::App& root);
[[nodiscard]] Command add_bench_serve_command(CLI::App& root);
[[nodiscard]] Command add_bench_command(CLI::App& root);
[[nodiscard]] Command add_quantize_command(CLI::App& root);

}  // namespace bamba::cli
