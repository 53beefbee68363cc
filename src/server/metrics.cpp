// Prometheus text exposition of the server's counters; see metrics.h.
#include "server/metrics.h"

#include "base/error.h"

namespace bamba::server {

void Histogram::observe(double seconds) {
  size_t b = 0;
  while (b < kBounds.size() && seconds > kBounds[b]) ++b;
  ++counts_[b];
  sum_ += seconds;
  ++count_;
}

void Histogram::write(const std::string& name, std::string& out) const {
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kBounds.size(); ++b) {
    cumulative += counts_[b];
    out += str_cat(name, "_bucket{le=\"", kBounds[b], "\"} ", cumulative, "\n");
  }
  cumulative += counts_[kBounds.size()];
  out += str_cat(name, "_bucket{le=\"+Inf\"} ", cumulative, "\n");
  out += str_cat(name, "_sum ", sum_, "\n", name, "_count ", count_, "\n");
}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
}

void Metrics::count_tokens(int64_t prompt_tokens, int64_t generated_tokens) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += uint64_t(prompt_tokens);
  generated_tokens_ += uint64_t(generated_tokens);
}

void Metrics::observe_time_to_first_token(double seconds) {
  std::lock_guard lock(mutex_);
  ttft_.observe(seconds);
}

void Metrics::observe_inter_token_latency(double seconds) {
  std::lock_guard lock(mutex_);
  itl_.observe(seconds);
}

std::string Metrics::render(const EngineSnapshot& engine) const {
  std::lock_guard lock(mutex_);
  std::string out;
  auto header = [&out](const char* name, const char* type, const char* help) {
    out += str_cat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  };
  auto gauge = [&](const char* name, const char* help, int64_t value) {
    header(name, "gauge", help);
    out += str_cat(name, " ", value, "\n");
  };
  header("bamba_requests_total", "counter", "HTTP requests by endpoint and status.");
  for (const auto& [key, count] : requests_)
    out += str_cat("bamba_requests_total{endpoint=\"", key.first, "\",status=\"", key.second, "\"} ", count, "\n");
  header("bamba_prompt_tokens_total", "counter", "Prompt tokens of finished requests.");
  out += str_cat("bamba_prompt_tokens_total ", prompt_tokens_, "\n");
  header("bamba_generation_tokens_total", "counter", "Generated tokens of finished requests.");
  out += str_cat("bamba_generation_tokens_total ", generated_tokens_, "\n");
  header("bamba_time_to_first_token_seconds", "histogram", "Time from request to first token.");
  ttft_.write("bamba_time_to_first_token_seconds", out);
  header("bamba_inter_token_latency_seconds", "histogram", "Time between consecutive tokens of a stream.");
  itl_.write("bamba_inter_token_latency_seconds", out);
  gauge("bamba_running_sequences", "Sequences holding a state slot.", engine.running);
  gauge("bamba_waiting_sequences", "Requests queued for admission.", engine.waiting);
  gauge("bamba_state_slots_in_use", "Mamba2 state slots in use.", engine.slots_in_use);
  gauge("bamba_state_slots_total", "Mamba2 state slots.", engine.slots_total);
  gauge("bamba_kv_blocks_in_use", "KV blocks holding positions.", engine.kv_blocks_in_use);
  gauge("bamba_kv_blocks_reserved", "KV blocks reserved by running requests.", engine.kv_blocks_reserved);
  gauge("bamba_kv_blocks_total", "KV blocks in the pool.", engine.kv_blocks_total);
  return out;
}

}  // namespace bamba::server
