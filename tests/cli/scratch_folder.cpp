// Temporary model folders for the CLI checks; see scratch_folder.h.
#include "scratch_folder.h"

#include <stdlib.h>

#include "run_command.h"

namespace bamba::testing {

ScratchFolder::ScratchFolder() {
  std::string name = (std::filesystem::temp_directory_path() / "bamba-model-XXXXXX").string();
  check(mkdtemp(name.data()) != nullptr, "cannot create a temporary folder");
  path_ = name;
}

ScratchFolder::~ScratchFolder() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void ScratchFolder::link(const std::filesystem::path& from, const std::vector<std::string>& files) {
  for (const std::string& f : files) std::filesystem::create_symlink(std::filesystem::absolute(from / f), path_ / f);
}

}  // namespace bamba::testing
