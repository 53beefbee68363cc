// Finding a request's socket and probing it; see client_socket.h.
#include "server/client_socket.h"

#include <dirent.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

namespace bamba::server {
namespace {

// The numeric host and port of a socket address, formatted as httplib formats them.
bool same_address(const sockaddr_storage& address, socklen_t length, const std::string& host, int port) {
  char host_text[NI_MAXHOST];
  char port_text[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host_text, sizeof host_text, port_text,
                  sizeof port_text, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return false;
  return host == host_text && port == std::atoi(port_text);
}

}  // namespace

ClientSocket ClientSocket::find(const std::string& local_addr, int local_port, const std::string& remote_addr,
                                int remote_port) {
  ClientSocket found;
  DIR* fds = opendir("/proc/self/fd");
  if (!fds) return found;
  while (const dirent* entry = readdir(fds)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;  // "." and ".."
    struct stat info {};
    if (fstat(int(fd), &info) != 0 || !S_ISSOCK(info.st_mode)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t local_length = sizeof local, peer_length = sizeof peer;
    if (getsockname(int(fd), reinterpret_cast<sockaddr*>(&local), &local_length) != 0 ||
        getpeername(int(fd), reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0)
      continue;
    if (same_address(local, local_length, local_addr, local_port) &&
        same_address(peer, peer_length, remote_addr, remote_port)) {
      found.fd_ = int(fd);
      break;
    }
  }
  closedir(fds);
  return found;
}

bool ClientSocket::connected() const {
  if (fd_ < 0) return true;
  char byte;
  const ssize_t n = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return true;                                     // data waiting: still there
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;  // or reset
  return false;                                               // orderly close
}

}  // namespace bamba::server
