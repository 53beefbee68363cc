// Child-process runner for the CLI checks; see run_command.h.
#include "run_command.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace bamba::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string CommandResult::describe() const {
  std::string how = signal ? "signal " + std::to_string(signal) : "exit " + std::to_string(exit_code);
  return how + "; stderr: " + err.substr(err.size() > 2000 ? err.size() - 2000 : 0);
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text) {
  char dir_template[] = "/tmp/bamba-cli-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  check(dir != nullptr, "cannot create a temporary folder");
  const std::string in_path = std::string(dir) + "/stdin", out_path = std::string(dir) + "/stdout",
                    err_path = std::string(dir) + "/stderr";
  std::ofstream(in_path, std::ios::binary) << stdin_text;

  const pid_t pid = fork();
  check(pid >= 0, "fork failed");
  if (pid == 0) {
    const int in = open(in_path.c_str(), O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  for (const std::string& p : {in_path, out_path, err_path}) std::remove(p.c_str());
  rmdir(dir);
  return r;
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  const size_t begin = text.rfind('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

void check(bool ok, const std::string& message) {
  if (ok) return;
  std::fprintf(stderr, "FAIL: %s\n", message.c_str());
  std::exit(1);
}

}  // namespace bamba::testing
