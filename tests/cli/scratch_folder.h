// A temporary model folder assembled from symlinks (e.g. a tiny checkpoint with a real
// tokenizer beside it), removed when the object goes away.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bamba::testing {

class ScratchFolder {
 public:
  // Links `files` of `from` into the folder (keeping their names).
  ScratchFolder();
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;

  void link(const std::filesystem::path& from, const std::vector<std::string>& files);
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace bamba::testing
