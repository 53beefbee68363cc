// `bamba serve`: the OpenAI-compatible HTTP server. Loads the model folder (or builds random
// weights of a shape, --synthetic, for throughput measurements), splits the memory budget
// between state slots and KV blocks (and says how many sequences and tokens fit), starts the
// engine loop and serves until SIGTERM/SIGINT, then drains for a grace period and exits 0.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <thread>

#include "base/error.h"
#include "cli/command.h"
#include "cli/common.h"
#include "cli/synthetic_model.h"
#include "jinja/chat_template.h"
#include "runtime/engine_loop.h"
#include "runtime/model_folder.h"
#include "runtime/model_runner.h"
#include "server/http_server.h"

namespace bamba::cli {
namespace {

struct ServeFlags {
  std::string model_dir;
  std::string synthetic;  // a shape NAME of bench/shapes or a config.json PATH, instead of -m
  std::string tokenizer;  // --synthetic: the tokenizer.json to serve it with
  std::string dtype = "bf16";  // --synthetic: weight format
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string chat_template_file;
  std::string served_model_name;
  std::string memory;  // "4G", "512M", bytes; empty: a quarter of RAM
  int max_seqs = 32;
  int64_t max_batch_tokens = 0;  // 0: max(512, prefill chunk + max_seqs - 1)
  int64_t prefill_chunk = 256;
  int64_t ctx_size = 4096;
  int64_t block_len = 16;
  int64_t max_queue = 256;
  int64_t max_body_kib = 8192;
  double grace_seconds = 10;
  ComputeFlags compute;
};

// "4G", "512MiB", "1000000" -> bytes.
int64_t parse_size(const std::string& text) {
  size_t end = 0;
  double value = 0;
  try {
    value = std::stod(text, &end);
  } catch (const std::exception&) {
    fail("--memory: expected a size like 4G or 512M, found '", text, "'");
  }
  std::string unit = text.substr(end);
  for (char& c : unit) c = char(std::toupper(static_cast<unsigned char>(c)));
  if (unit.ends_with("IB")) unit.resize(unit.size() - 2);
  if (unit.ends_with("B")) unit.resize(unit.size() - 1);
  double scale = 1;
  if (unit == "K") scale = 1024.0;
  else if (unit == "M") scale = 1024.0 * 1024;
  else if (unit == "G") scale = 1024.0 * 1024 * 1024;
  else if (!unit.empty()) fail("--memory: unknown unit in '", text, "' (use K, M or G)");
  if (value <= 0) fail("--memory: must be positive, found '", text, "'");
  return int64_t(value * scale);
}

int64_t default_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? int64_t(pages) * page / 4 : int64_t(1) << 30;
}

// What is served: a model folder (-m), or random weights of a shape (--synthetic) with a
// tokenizer file and no chat template of its own.
ModelFolder load_served_model(const ServeFlags& f, ThreadPool& pool) {
  const LoadOptions load{f.compute.math_mode()};
  if (f.synthetic.empty()) {
    if (!f.tokenizer.empty()) fail("serve: --tokenizer goes with --synthetic; -m serves the folder's tokenizer.json");
    return load_model_folder(resolve_model_dir(f.model_dir), load);
  }
  if (!f.model_dir.empty()) fail("serve: give -m or --synthetic, not both");
  if (f.tokenizer.empty()) fail("serve --synthetic: --tokenizer FILE (a tokenizer.json) is required");
  const std::filesystem::path config_path = synthetic_config_path(f.synthetic);
  Tokenizer tokenizer = Tokenizer::load(f.tokenizer);
  std::unique_ptr<Model> model = build_synthetic_model(config_path, f.dtype, load, pool);
  const int64_t model_vocab = model->config().vocab_size;
  if (tokenizer.vocab_size() > model_vocab)
    fail("--tokenizer ", f.tokenizer, ": its vocabulary has ", tokenizer.vocab_size(), " ids, more than the ",
         model_vocab, " of the model shape ", config_path);
  return assemble_model_folder(config_path.parent_path(), std::move(model), std::move(tokenizer), {});
}

int run_serve(const ServeFlags& f) {
  // Signals are taken by one thread with sigwait: block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the process

  const std::unique_ptr<ThreadPool> pool = f.compute.make_thread_pool();
  const ModelFolder folder = load_served_model(f, *pool);
  const Tokenizer& tokenizer = folder.require_tokenizer();
  const ModelConfig& config = folder.model->config();

  std::optional<ChatTemplate> chat_template;
  const bool synthetic = !f.synthetic.empty();
  const std::string template_source = !f.chat_template_file.empty() ? read_text_file(f.chat_template_file, "--chat-template")
                                      : synthetic                  ? std::string()
                                                                   : tokenizer.chat_template();
  if (!template_source.empty()) chat_template.emplace(template_source);

  const int64_t max_context = std::min(f.ctx_size, config.max_position_embeddings);
  const int64_t memory = f.memory.empty() ? default_memory_bytes() : parse_size(f.memory);
  const MemoryPlan plan = plan_memory(config, memory, f.max_seqs, max_context, f.block_len, f.compute.kv_dtype(),
                                      f.compute.state_dtype());
  std::fprintf(stderr, "bamba serve: %s (max %d sequences at once)\n", plan.describe().c_str(), f.max_seqs);

  ModelRunner runner(*folder.model, plan, f.compute.kv_dtype(), f.compute.state_dtype(), *pool);
  EngineOptions engine_options;
  engine_options.max_context = max_context;
  engine_options.scheduler = {
      .max_seqs = f.max_seqs,
      .max_batch_tokens = f.max_batch_tokens > 0 ? f.max_batch_tokens
                                                 : std::max<int64_t>(512, f.prefill_chunk + f.max_seqs - 1),
      .prefill_chunk = f.prefill_chunk,
      .kv_block_len = plan.block_len,
      .kv_blocks = plan.kv_blocks,
      .max_waiting = f.max_queue,
  };
  EngineLoop engine(runner, engine_options);

  server::Metrics metrics;
  const std::string default_name =
      synthetic ? "synthetic-" + synthetic_config_path(f.synthetic).stem().string()
                : std::filesystem::absolute(folder.dir).lexically_normal().filename().string();
  server::ServiceOptions service_options{
      .model_name = f.served_model_name.empty() ? default_name : f.served_model_name,
      .eos_ids = folder.eos_ids,
      .default_sampling = default_sampling(folder.generation_defaults),
  };
  if (service_options.model_name.empty()) service_options.model_name = "bamba";
  server::CompletionService service(engine, tokenizer, chat_template ? &*chat_template : nullptr, metrics,
                                    service_options);
  server::HttpServer http(service, engine, metrics,
                          {.host = f.host,
                           .port = f.port,
                           .api_key = f.api_key,
                           .max_body_bytes = size_t(f.max_body_kib) * 1024,
                           .n_threads = int(f.max_seqs + f.max_queue / 4 + 8)});
  const int port = http.bind();
  engine.start();
  std::printf("bamba serve: model '%s' listening on http://%s:%d\n", service_options.model_name.c_str(),
              f.host.c_str(), port);
  std::fflush(stdout);

  std::atomic<bool> listening_done{false};
  std::thread signal_watcher([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!listening_done) {
      if (sigtimedwait(&stop_signals, nullptr, &tick) < 0) continue;
      std::fprintf(stderr, "bamba serve: stopping; in-flight requests have %.1f s to finish\n", f.grace_seconds);
      http.begin_draining();
      engine.shutdown(std::chrono::milliseconds(int64_t(f.grace_seconds * 1000)));
      http.stop();
      return;
    }
  });
  http.listen();
  listening_done = true;
  signal_watcher.join();
  engine.shutdown(std::chrono::milliseconds(0));
  std::fprintf(stderr, "bamba serve: stopped\n");
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& root) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = root.add_subcommand("serve", "OpenAI-compatible HTTP server with continuous batching");
  add_model_flag(*cmd, f->model_dir);
  cmd->add_option("--synthetic", f->synthetic,
                  "serve random weights with the shape of bench/shapes/NAME.json (bamba-1b, bamba-9b, ...) or of "
                  "a config.json path, instead of -m: for throughput measurements");
  cmd->add_option("--tokenizer", f->tokenizer, "--synthetic: the tokenizer.json to serve with (ids < vocab_size)");
  cmd->add_option("--dtype", f->dtype, "--synthetic: bf16 weights, or int8 / q4 as `bamba quantize` makes them")
      ->check(CLI::IsMember({"bf16", "int8", "q4"}))
      ->capture_default_str();
  cmd->add_option("--host", f->host, "address to bind (default 127.0.0.1)");
  cmd->add_option("--port", f->port, "port (0: any free port; the chosen one is printed)")->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", f->api_key, "require 'Authorization: Bearer KEY' on /v1 routes");
  cmd->add_option("--chat-template", f->chat_template_file, "Jinja chat template file (default: tokenizer_config.json's)");
  cmd->add_option("--served-model-name", f->served_model_name, "the model name clients use (default: folder name)");
  cmd->add_option("--memory", f->memory, "memory for state slots + KV cache, e.g. 2G (default: a quarter of RAM)");
  cmd->add_option("--max-seqs", f->max_seqs, "sequences running at once")->check(CLI::Range(1, 4096));
  cmd->add_option("--max-batch-tokens", f->max_batch_tokens,
                  "tokens per engine step (default: max(512, prefill chunk + max seqs - 1))")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--prefill-chunk", f->prefill_chunk, "prompt tokens per chunk")->check(CLI::PositiveNumber);
  cmd->add_option("--ctx-size", f->ctx_size, "context length per sequence (prompt + output)")->check(CLI::PositiveNumber);
  cmd->add_option("--block-len", f->block_len, "positions per KV block")->check(CLI::PositiveNumber);
  cmd->add_option("--max-queue", f->max_queue, "queued requests beyond which the server answers 429")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-body-kib", f->max_body_kib, "largest request body (KiB); larger gets 413")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--grace-seconds", f->grace_seconds, "time in-flight requests get after SIGTERM")
      ->check(CLI::NonNegativeNumber);
  add_compute_flags(*cmd, f->compute);
  return {cmd, [f] { return run_serve(*f); }};
}

}  // namespace bamba::cli
