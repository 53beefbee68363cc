// Server metrics in the Prometheus text format: requests by endpoint and status, prompt and
// generated tokens, time-to-first-token and inter-token latency histograms, and the
// engine's running/waiting sequences, state slots and KV blocks. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "runtime/engine_loop.h"

namespace bamba::server {

// A cumulative histogram with fixed bucket bounds (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
  void observe(double seconds);
  // Appends `name`_bucket/_sum/_count lines.
  void write(const std::string& name, std::string& out) const;

 private:
  std::array<uint64_t, kBounds.size() + 1> counts_{};  // last: +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  void count_request(const std::string& endpoint, int status);
  void count_tokens(int64_t prompt_tokens, int64_t generated_tokens);
  void observe_time_to_first_token(double seconds);
  void observe_inter_token_latency(double seconds);
  // The whole exposition, with the engine's gauges.
  [[nodiscard]] std::string render(const EngineSnapshot& engine) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t prompt_tokens_ = 0, generated_tokens_ = 0;
  Histogram ttft_, itl_;
};

}  // namespace bamba::server
