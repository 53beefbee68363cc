// ClientSocket: the connection an HTTP request arrived on, so that a handler which waits a
// long time (a non-streaming completion) can tell when its client has hung up. cpp-httplib
// 0.11 hands a handler the request's addresses but not its socket, and only notices a gone
// client when a write fails — which a non-streaming response does once, at the very end.
// The socket is found among this process's descriptors by its address pair, which is unique
// while the connection is open (the handler's own thread keeps it open).
#pragma once

#include <string>

namespace bamba::server {

class ClientSocket {
 public:
  // The connected socket with these local and peer addresses (as httplib::Request gives
  // them); when none is found, one that always reads as connected.
  [[nodiscard]] static ClientSocket find(const std::string& local_addr, int local_port,
                                         const std::string& remote_addr, int remote_port);

  // False once the client has closed or reset the connection. Bytes it sent meanwhile (a
  // pipelined request) keep it connected.
  [[nodiscard]] bool connected() const;

 private:
  int fd_ = -1;  // not owned
};

}  // namespace bamba::server
