// HttpServer: the HTTP transport (cpp-httplib) of the OpenAI-compatible API — routes,
// bearer-token check, body limit, SSE streaming, watching the socket of a waiting
// non-streaming client, OpenAI error bodies for every failure, and a draining state for
// shutdown. The semantics live in CompletionService.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "runtime/engine_loop.h"
#include "server/completion_service.h"
#include "server/metrics.h"

namespace httplib {
class Server;
}

namespace bamba::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                       // 0: any free port (see bound_port())
  std::string api_key;                   // empty: no authentication
  size_t max_body_bytes = 8 << 20;       // larger bodies get 413
  int n_threads = 64;                    // connections served at once (each stream holds one)
};

class HttpServer {
 public:
  HttpServer(CompletionService& service, EngineLoop& engine, Metrics& metrics, HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket; returns the port (useful with port 0). Error when binding fails.
  int bind();
  // Serves until stop(); returns once every handler has returned.
  void listen();
  // New requests get 503 from now on; requests in flight continue.
  void begin_draining() { draining_ = true; }
  // Closes the listening socket; listen() returns after the handlers in flight finish.
  void stop();

 private:
  void install_routes();

  CompletionService& service_;
  EngineLoop& engine_;
  Metrics& metrics_;
  HttpOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> draining_{false};
};

// Compares without an early exit, so the time taken does not tell how much of a secret matched.
[[nodiscard]] bool constant_time_equal(const std::string& a, const std::string& b);

}  // namespace bamba::server
