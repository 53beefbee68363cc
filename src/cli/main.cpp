// The `bamba` binary: parses the command line, runs the chosen subcommand, and turns every
// error into a message on stderr and a non-zero exit status.
#include <cstdio>
#include <exception>
#include <new>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/error.h"
#include "cli/command.h"

int main(int argc, char** argv) {
  using namespace bamba::cli;
  CLI::App app{"bamba: inference for Bamba hybrid (Mamba2 + attention) language models"};
  app.require_subcommand(1);
  const std::vector<Command> commands = {
      add_generate_command(app), add_logits_command(app),     add_perplexity_command(app),
      add_tokenize_command(app), add_detokenize_command(app), add_info_command(app),
      add_serve_command(app),    add_bench_command(app),      add_bench_serve_command(app),
      add_quantize_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);  // prints help (status 0) or the parse error
    return status == 0 ? 0 : 2;
  }

  try {
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
    return 2;  // unreachable: require_subcommand(1)
  } catch (const bamba::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
