// EngineLoop: the one thread that runs engine steps. Each step is a short chain of named
// stages — take submissions, drop cancelled requests, schedule (admission + budget), build
// the batch, forward, sample and finish — over a StepModel. Clients talk to it only through
// submit() and the RequestStream it returns.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/request.h"
#include "runtime/scheduler.h"
#include "runtime/step_model.h"

namespace bamba {

struct EngineOptions {
  SchedulerOptions scheduler;
  int64_t max_context = 4096;  // prompt + generated tokens of one request
};

// Why submit() refused a request (the server maps these to HTTP statuses).
enum class SubmitError : uint8_t { None, InvalidRequest, TooLarge, QueueFull, ShuttingDown };

struct Submission {
  std::shared_ptr<RequestStream> stream;  // set when accepted
  SubmitError error = SubmitError::None;
  std::string message;
};

// A consistent view of the engine for metrics and health checks.
struct EngineSnapshot {
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t slots_in_use = 0;
  int64_t slots_total = 0;
  int64_t kv_blocks_reserved = 0;  // by admitted requests (their whole generation)
  int64_t kv_blocks_in_use = 0;    // actually holding positions
  int64_t kv_blocks_total = 0;
  int64_t steps = 0;
};

class EngineLoop {
 public:
  EngineLoop(StepModel& model, const EngineOptions& options);
  ~EngineLoop();  // stops the thread, ending what still runs with Shutdown
  EngineLoop(const EngineLoop&) = delete;
  EngineLoop& operator=(const EngineLoop&) = delete;

  // Starts the step thread.
  void start();
  // Validates and queues a request; thread-safe.
  [[nodiscard]] Submission submit(RequestParams params);
  // Refuses new requests, lets running and waiting ones finish for up to `grace`, ends the
  // rest with EndReason::Shutdown and joins the thread.
  void shutdown(std::chrono::milliseconds grace);

  // Runs one step on the calling thread (for tests, with no thread started); returns false
  // when there was nothing to compute.
  bool step();

  [[nodiscard]] EngineSnapshot snapshot() const;
  [[nodiscard]] const EngineOptions& options() const { return options_; }

 private:
  void run();
  void take_submissions();
  void drop_cancelled();
  void admit(const StepPlan& plan);
  void build_batch(const StepPlan& plan);
  void forward_and_sample(const StepPlan& plan);
  // Scores the prompt tokens that the chunk's positions [begin, num_computed) predict, from
  // logits rows starting at `row`; hands the whole list to the stream when the prompt is
  // done. Returns the row after the last one used.
  size_t score_prompt_tokens(Request& request, int64_t begin, size_t row);
  void finish(Request* request, EndReason reason, const std::string& error = {});
  void publish_snapshot();
  [[nodiscard]] bool idle() const;

  StepModel& model_;
  EngineOptions options_;
  Scheduler scheduler_;  // touched by the step thread only

  mutable std::mutex inbox_mutex_;
  std::condition_variable inbox_changed_;
  std::vector<std::shared_ptr<Request>> inbox_;
  uint64_t next_id_ = 1;
  bool accepting_ = true;
  bool stop_ = false;
  int64_t queued_ = 0;  // inbox + waiting, for the queue limit

  mutable std::mutex snapshot_mutex_;
  EngineSnapshot snapshot_;

  Batch batch_;                          // reused every step
  std::vector<size_t> chunk_first_row_;  // [plan.chunks]: each chunk's first logits row
  std::vector<float> logits_;            // [logit_rows, vocab]
  std::thread thread_;
  std::atomic<bool> running_thread_{false};
};

}  // namespace bamba
