// Routes and transport details of the OpenAI-compatible API; see http_server.h.
#include "server/http_server.h"

#include <ctime>
#include <optional>

#include <httplib.h>

#include "base/error.h"
#include "server/api_error.h"
#include "server/client_socket.h"

namespace bamba::server {
namespace {

using nlohmann::json;

// The status a request whose client hung up is counted under (nginx's; nobody receives it).
constexpr int kClientClosedRequest = 499;

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) { send_json(res, error.status, error.to_json()); }

// Which endpoint label a path counts under in the metrics (bounded set: no client strings).
std::string endpoint_label(const std::string& path) {
  for (const char* known : {"/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/metrics"})
    if (path == known) return known;
  return "other";
}

}  // namespace

bool constant_time_equal(const std::string& a, const std::string& b) {
  // Length is not secret-dependent enough to matter, but compare all of `b` regardless.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) diff |= static_cast<unsigned char>(b[i] ^ (i < a.size() ? a[i] : 0));
  return diff == 0;
}

HttpServer::HttpServer(CompletionService& service, EngineLoop& engine, Metrics& metrics, HttpOptions options)
    : service_(service), engine_(engine), metrics_(metrics), options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()) {
  const int n_threads = options_.n_threads;
  http_->new_task_queue = [n_threads] { return new httplib::ThreadPool(size_t(n_threads)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_keep_alive_max_count(1000);
  install_routes();
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port < 0) fail("cannot listen on ", options_.host, ":", options_.port);
  return port;
}

void HttpServer::listen() { http_->listen_after_bind(); }

void HttpServer::stop() { http_->stop(); }

void HttpServer::install_routes() {
  // Authentication, draining and request counting happen before any route runs.
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/health" || req.path == "/metrics") return httplib::Server::HandlerResponse::Unhandled;
    if (!options_.api_key.empty()) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      const bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                      constant_time_equal(auth.substr(prefix.size()), options_.api_key);
      if (!ok) {
        send_error(res, ApiError(401, "missing or wrong API key (Authorization: Bearer ...)", "", "invalid_api_key"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (draining_) {
      send_error(res, ApiError(503, "the server is shutting down"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_->set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    metrics_.count_request(endpoint_label(req.path), res.status);
  });
  // Failures httplib answers itself (413, 404, 400 on a broken request line) get OpenAI bodies.
  http_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.content_length_ > 0) return httplib::Server::HandlerResponse::Unhandled;
    const std::string message = res.status == 413   ? "the request body is larger than the server accepts"
                                : res.status == 404 ? "no route for " + req.method + " " + req.path
                                                    : "the request could not be processed";
    send_error(res, ApiError(res.status, message));
    return httplib::Server::HandlerResponse::Handled;
  }));
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
    }
    send_error(res, ApiError(500, message));
  });

  http_->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, draining_ ? 503 : 200, {{"status", draining_ ? "draining" : "ok"}});
  });
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(engine_.snapshot()), "text/plain; version=0.0.4");
  });
  http_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    const json model = {{"id", service_.options().model_name},
                        {"object", "model"},
                        {"created", int64_t(std::time(nullptr))},
                        {"owned_by", "bamba.cpp"},
                        {"max_model_len", engine_.options().max_context}};
    send_json(res, 200, {{"object", "list"}, {"data", json::array({model})}});
  });

  auto completion_route = [this](Endpoint endpoint) {
    return [this, endpoint](const httplib::Request& req, httplib::Response& res) {
      std::shared_ptr<CompletionJob> job;
      try {
        const json body = json::parse(req.body);
        job = service_.start(body, endpoint);
      } catch (const json::parse_error& e) {
        send_error(res, ApiError(400, str_cat("the request body is not valid JSON: ", e.what())));
        return;
      } catch (const ApiError& e) {
        send_error(res, e);
        return;
      }
      if (!job->streaming()) {
        // Nothing is written until the end, so the client's socket is watched instead: one
        // that hangs up frees its sequences at the next engine step, as a stream's does.
        const ClientSocket client = ClientSocket::find(req.local_addr, req.local_port, req.remote_addr, req.remote_port);
        try {
          std::optional<json> response = job->run_to_end([&client] { return client.connected(); });
          if (response) {
            send_json(res, 200, *response);
          } else {
            res.status = kClientClosedRequest;
          }
        } catch (const ApiError& e) {
          send_error(res, e);
        }
        return;
      }
      res.set_header("Cache-Control", "no-cache");
      res.set_chunked_content_provider("text/event-stream", [job](size_t, httplib::DataSink& sink) {
        job->stream([&sink](const std::string& event) { return sink.is_writable() && sink.write(event.data(), event.size()); });
        sink.done();
        return true;
      });
    };
  };
  http_->Post("/v1/completions", completion_route(Endpoint::Completions));
  http_->Post("/v1/chat/completions", completion_route(Endpoint::ChatCompletions));
}

}  // namespace bamba::server
