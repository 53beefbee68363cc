// `bamba bench-serve`: load test of a running `bamba serve` (or any OpenAI-compatible
// server). At each concurrency level, that many clients stream completions back to back;
// reports output tokens/s, time to first token and inter-token latency (p50/p99), and the
// aggregate throughput at the highest level relative to a single stream.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/command.h"

namespace bamba::cli {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct BenchServeFlags {
  std::string url = "http://127.0.0.1:8080";
  std::string model;  // empty: the first of /v1/models
  std::string api_key;
  std::vector<int> concurrency = {1, 4, 16};
  int requests_per_client = 3;
  int64_t max_tokens = 64;
  int prompt_words = 32;
  bool json_output = false;
};

struct RequestTiming {
  double ttft = 0;            // seconds to the first token
  std::vector<double> itl;    // seconds between consecutive tokens
  int64_t tokens = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

httplib::Headers auth_headers(const BenchServeFlags& f) {
  httplib::Headers h;
  if (!f.api_key.empty()) h.emplace("Authorization", "Bearer " + f.api_key);
  return h;
}

// One streamed completion; every token arrives as its own chunk because logprobs are asked
// for (a chunk carries the token's log-probability even when its text is held back).
RequestTiming stream_one(const BenchServeFlags& f, const std::string& model, const std::string& prompt) {
  httplib::Client client(f.url);
  client.set_read_timeout(600, 0);
  const json body = {{"model", model},       {"prompt", prompt}, {"max_tokens", f.max_tokens},
                     {"temperature", 0},     {"stream", true},   {"logprobs", 0},
                     {"ignore_eos", true}};
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.headers = auth_headers(f);
  req.set_header("Content-Type", "application/json");
  req.body = body.dump();
  RequestTiming timing;
  std::string buffer;
  const Clock::time_point start = Clock::now();
  Clock::time_point last = start;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    buffer.append(data, n);
    for (size_t end; (end = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, end + 2)) {
      const std::string event = buffer.substr(0, end);
      if (event.rfind("data: ", 0) != 0 || event == "data: [DONE]") continue;
      const json chunk = json::parse(event.substr(6), nullptr, false);
      if (chunk.is_discarded() || !chunk.contains("choices")) continue;
      for (const json& choice : chunk["choices"]) {
        const int64_t n_tokens = choice["logprobs"].is_object() ? int64_t(choice["logprobs"]["tokens"].size()) : 0;
        if (n_tokens == 0) continue;
        const Clock::time_point now = Clock::now();
        if (timing.tokens == 0) {
          timing.ttft = std::chrono::duration<double>(now - start).count();
        } else {
          timing.itl.push_back(std::chrono::duration<double>(now - last).count());
        }
        last = now;
        timing.tokens += n_tokens;
      }
    }
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  if (!client.send(req, res, error) || res.status != 200)
    fail("bench-serve: request to ", f.url, " failed (", httplib::to_string(error), ", HTTP ", res.status, ")");
  return timing;
}

std::string first_model(const BenchServeFlags& f) {
  httplib::Client client(f.url);
  const auto res = client.Get("/v1/models", auth_headers(f));
  if (!res || res->status != 200) fail("bench-serve: GET ", f.url, "/v1/models failed");
  const json models = json::parse(res->body);
  return models.at("data").at(0).at("id").get<std::string>();
}

int run_bench_serve(const BenchServeFlags& f) {
  const std::string model = f.model.empty() ? first_model(f) : f.model;
  std::string prompt;
  const char* words[] = {"the", "river", "ran", "past", "an", "old", "mill", "where", "children", "played"};
  for (int i = 0; i < f.prompt_words; ++i) prompt += std::string(i ? " " : "") + words[i % 10];
  stream_one(f, model, prompt);  // warm-up

  json levels = json::array();
  double single_rate = 0, last_rate = 0;
  int last_level = 0;
  if (!f.json_output)
    std::printf("%-11s %9s %13s %10s %10s %10s %10s\n", "concurrency", "requests", "output tok/s", "TTFT p50",
                "TTFT p99", "ITL p50", "ITL p99");
  for (int c : f.concurrency) {
    std::vector<RequestTiming> timings;
    std::mutex mutex;
    std::string failure;
    const Clock::time_point start = Clock::now();
    std::vector<std::thread> clients;
    for (int t = 0; t < c; ++t) {
      clients.emplace_back([&] {
        for (int r = 0; r < f.requests_per_client; ++r) {
          try {
            RequestTiming timing = stream_one(f, model, prompt);
            std::lock_guard lock(mutex);
            timings.push_back(std::move(timing));
          } catch (const std::exception& e) {
            std::lock_guard lock(mutex);
            failure = e.what();
            return;
          }
        }
      });
    }
    for (std::thread& t : clients) t.join();
    if (!failure.empty()) fail(failure);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> ttft, itl;
    int64_t tokens = 0;
    for (const RequestTiming& t : timings) {
      ttft.push_back(t.ttft);
      itl.insert(itl.end(), t.itl.begin(), t.itl.end());
      tokens += t.tokens;
    }
    const double rate = double(tokens) / seconds;
    if (c == 1) single_rate = rate;
    last_rate = rate;
    last_level = c;
    levels.push_back({{"concurrency", c}, {"requests", timings.size()}, {"output_tokens_per_s", rate},
                      {"ttft_p50_s", percentile(ttft, 0.5)}, {"ttft_p99_s", percentile(ttft, 0.99)},
                      {"itl_p50_s", percentile(itl, 0.5)}, {"itl_p99_s", percentile(itl, 0.99)}});
    if (!f.json_output)
      std::printf("%-11d %9zu %13.1f %9.1fms %9.1fms %9.1fms %9.1fms\n", c, timings.size(), rate,
                  1e3 * percentile(ttft, 0.5), 1e3 * percentile(ttft, 0.99), 1e3 * percentile(itl, 0.5),
                  1e3 * percentile(itl, 0.99));
  }
  const double speedup = single_rate > 0 ? last_rate / single_rate : 0;
  if (f.json_output) {
    std::printf("%s\n", json{{"model", model}, {"levels", levels}, {"speedup_vs_single", speedup}}.dump().c_str());
  } else if (single_rate > 0) {
    std::printf("aggregate throughput at %d streams: %.2fx the single-stream rate\n", last_level, speedup);
  }
  return 0;
}

}  // namespace

Command add_bench_serve_command(CLI::App& root) {
  auto f = std::make_shared<BenchServeFlags>();
  CLI::App* cmd = root.add_subcommand("bench-serve", "load-test a running server: tokens/s, TTFT and ITL percentiles");
  cmd->add_option("--url", f->url, "server address (default http://127.0.0.1:8080)");
  cmd->add_option("--model", f->model, "model name (default: the server's first)");
  cmd->add_option("--api-key", f->api_key, "bearer token, when the server wants one");
  cmd->add_option("--concurrency", f->concurrency, "concurrency levels (default 1 4 16)")->check(CLI::PositiveNumber);
  cmd->add_option("--requests-per-client", f->requests_per_client, "requests each client sends in turn")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-tokens", f->max_tokens, "tokens per request")->check(CLI::PositiveNumber);
  cmd->add_option("--prompt-words", f->prompt_words, "prompt length in words")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", f->json_output, "print one JSON object instead of a table");
  return {cmd, [f] { return run_bench_serve(*f); }};
}

}  // namespace bamba::cli
